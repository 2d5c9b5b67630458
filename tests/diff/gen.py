#!/usr/bin/env python3
"""Deterministic dumps with the variety of a store dump, for the differential
test: 1-3 profile fragments per profile (some from a second dataset with an
extra identity), 0-6 ExperienceEvents for half the profiles, and the odd
corners of real data: escapes and non-ASCII in strings and keys, xdm:
spellings, duplicate keys, integers and doubles in many spellings, nulls,
empty containers, whitespace, identity items repeated, a few bad lines.

    gen.py PROFILES SEED > dump.ndjson
"""
import json, random, sys

SEGS = ["seg-%02d" % i for i in range(8)] + ["s\u00e9g-\\x"]
STAT = ["realized", "existing", "exited"]

def ts(r, base=1700000000000):
    ms = base + r.randrange(-10**10, 10**10)
    if r.random() < 0.7:
        s = ms // 1000
        import datetime
        d = datetime.datetime.fromtimestamp(s, datetime.timezone.utc)
        return d.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (ms % 1000)
    return ms

def num(r):
    return r.choice(["0", "-0", "17", "-4", "1.50", "-0.0", "1e5", "2.5E-3", "123456789012", "-01", "3.0"])

def scalar(r):
    k = r.randrange(7)
    if k == 0:
        return "null"
    if k == 1:
        return r.choice(["true", "false"])
    if k == 2:
        return num(r)
    return json.dumps(r.choice(["Ann", "B\u00e9a", "a/b", "tab\there", "quo\"te", "back\\slash",
                                "\u2603 snow", "line\nbreak", "", "\U0001F600"]),
                      ensure_ascii=r.random() < 0.5)

def value(r, depth=0):
    k = r.randrange(6 if depth < 3 else 3)
    if k < 3:
        return scalar(r)
    if k == 3:
        return "[" + ",".join(value(r, depth + 1) for _ in range(r.randrange(4))) + "]"
    return obj(r, depth + 1)

def obj(r, depth):
    names = ["name", "city", "a", "b", "list", "x\u00e9", "tags"]
    n = r.randrange(4)
    mem = []
    for _ in range(n):
        mem.append('%s:%s' % (json.dumps(r.choice(names)), value(r, depth)))
    return "{" + ",".join(mem) + "}"

def ecid_of(pid):
    # Profiles 100-139 have keys of ~620 bytes: more than the engine's key
    # space holds for a chunk's lines (128 bytes a line), so their keys
    # overflow it and are malloc'd, next to borrowed ones.
    return "%d" % (pid * 7919) if not 100 <= pid < 140 else "%d-%s" % (pid * 7919, "k" * 600)

def identity(r, pid, extra):
    # Every record of a profile has the same key: ECID, primary or smallest.
    eid = ecid_of(pid)
    ecid = '{"id":"%s"%s}' % (eid, ',"primary":true' if r.random() < 0.4 else "")
    items = {"ECID": [ecid]}
    if r.random() < 0.2:
        items["ECID"].append('{"id":"%s","authenticatedState":"ambiguous"}' % eid)
    if r.random() < 0.7:
        items["Email"] = ['{"id":"u%d@example.com","primary":false}' % pid]
    if extra:
        items["crmId"] = ['{"id":"crm-%d","primary":false}' % pid]
    body = ",".join('%s:[%s]' % (json.dumps(ns), ",".join(v)) for ns, v in items.items())
    return body

def membership(r):
    ns = {}
    for _ in range(r.randrange(4)):
        seg = r.choice(SEGS)
        e = '{"status":"%s"' % r.choice(STAT)
        if r.random() < 0.8:
            e += ',"lastQualificationTime":%s' % json.dumps(ts(r))
        e += "}"
        ns.setdefault(r.choice(["ups", "ups", "aam"]), []).append('%s:%s' % (json.dumps(seg), e))
    return "{" + ",".join('%s:{%s}' % (json.dumps(k), ",".join(v)) for k, v in ns.items()) + "}"

def fragment(r, pid, second):
    idm = identity(r, pid, second)
    key = "xdm:identityMap" if r.random() < 0.05 else "identityMap"
    mem = ['"%s":{%s}' % (key, idm)]
    mem.append('"person":{"name":{"firstName":%s,"lastName":"L%d"},"tags":[%s]}' % (
        scalar(r), pid, ",".join(value(r, 2) for _ in range(r.randrange(3)))))
    if r.random() < 0.6:
        mem.append('"homeAddress":%s' % obj(r, 1))
    if r.random() < 0.7:
        mem.append('"segmentMembership":%s' % membership(r))
    if r.random() < 0.5:
        mem.append('"extSourceSystemAudit":{"lastUpdatedDate":%s}' % json.dumps(ts(r) if r.random() < 0.9 else "bad"))
    if r.random() < 0.1:
        mem.append('"person":{"name":"dup %d"}' % pid)
    mem.append('"_acp_system_metadata":{"ingestTime":%s,"datasetId":"%s"}' % (
        json.dumps(ts(r)), "ds-crm" if second else "ds-main"))
    r.shuffle(mem)
    sep = ", " if r.random() < 0.1 else ","
    return "{" + sep.join(mem) + "}"

def event(r, pid):
    return ('{"identityMap":{"ECID":[{"id":"%s"}]},"timestamp":%s,"eventType":"web.view","web":%s,'
            '"_acp_system_metadata":{"ingestTime":%s}}') % (ecid_of(pid), json.dumps(ts(r)), obj(r, 1), json.dumps(ts(r)))

def main():
    n, seed = int(sys.argv[1]), int(sys.argv[2])
    r = random.Random(seed)
    out = sys.stdout
    for pid in range(n):
        recs = [fragment(r, pid, i > 0 and r.random() < 0.6) for i in range(1 + r.randrange(3))]
        if r.random() < 0.5:
            recs += [event(r, pid) for _ in range(r.randrange(7))]
        if r.random() < 0.02:
            recs = [event(r, pid)]  # events only
        r.shuffle(recs)
        for rec in recs:
            out.write(rec + "\n")
        if r.random() < 0.01:
            out.write(r.choice(['{"identityMap":{}}', '{"a":', '[1]', '{"identityMap":{"E":[{"id":"z"}]},"n":1e}']) + "\n")

main()
