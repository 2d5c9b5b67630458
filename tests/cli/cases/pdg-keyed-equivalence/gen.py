# 400 records over 300 people: fragments with 1-3 identities, events, links
# between random people (so chains form), and a chain of 55 Cookie ids (a
# component past 50 identities), in random order, and two bad records;
# deterministic.
import json, random
r = random.Random(11)
ns = ["ECID", "Email", "CRM", "Phone"]
recs = []
for i in range(400):
    ids = {}
    for _ in range(r.randint(1, 3)):
        ids.setdefault(r.choice(ns), []).append({"id": "p%d" % r.randint(0, 299)})
    rec = {"identityMap": ids, "_acp_system_metadata": {"ingestTime": r.randint(1, 10**6)}}
    if r.random() < 0.3:
        rec["timestamp"] = "2024-01-01T00:00:%02dZ" % r.randint(0, 59)
        rec["eventType"] = "e%d" % i
    else:
        rec["attr%d" % r.randint(0, 5)] = i
    recs.append(rec)
for i in range(54):
    recs.append({"identityMap": {"Cookie": [{"id": "k%02d" % i}, {"id": "k%02d" % (i + 1)}]}, "n": i})
r.shuffle(recs)
for i, rec in enumerate(recs):
    print(json.dumps(rec, separators=(",", ":")))
    if i in (40, 300):
        print('{"identityMap":{"ECID":[{"id":"p1"}]},"broken":')
