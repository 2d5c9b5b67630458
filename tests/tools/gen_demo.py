#!/usr/bin/env python3
"""Writes testdata/demo/profiles.ndjson: a small, deterministic store dump of
XDM profile fragments and ExperienceEvents, grouped by profile key (as a store
dump is).  Run it again only to change the demo data; its output is committed."""
import json, random, sys

rnd = random.Random(20181001)
first = ["Ada", "Bram", "Chloe", "Daan", "Eva", "Finn", "Gwen", "Hugo", "Iris", "Joris", "Kim", "Lotte"]
last = ["Jansen", "de Vries", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "Bos", "Vos"]
VIP = "52c26d0d-45f2-47a2-ab30-ed06abc981ff"
CART = "9f1b2c3d-0000-4a5b-8c7d-112233445566"
out = []
base_ingest = 1538611200000  # 2018-10-04T00:00:00Z

def iso(ms):
    import datetime
    return datetime.datetime.utcfromtimestamp(ms / 1000).strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)

for i in range(12):
    ecid = "%038d" % (10**30 + i * 7919)
    email = "%s.%s@example.com" % (first[i].lower(), last[i % 10].lower().replace(" ", ""))
    ingest = base_ingest + i * 3600_000
    status = ["realized", "realized", "exited", "existing"][i % 4]
    seg = {"ups": {VIP: {"status": status, "lastQualificationTime": iso(ingest - 86400_000)}}}
    if i % 3 == 0:
        seg["ups"][CART] = {"status": "realized", "lastQualificationTime": iso(ingest - 3 * 86400_000)}
    crm = {
        "identityMap": {"ECID": [{"id": ecid}], "Email": [{"id": email, "primary": True}]},
        "person": {"name": {"firstName": first[i], "lastName": last[i % 10]}},
        "personalEmail": {"address": email},
        "extSourceSystemAudit": {"lastUpdatedDate": iso(ingest - 1000)},
        "segmentMembership": seg,
        "_acp_system_metadata": {"ingestTime": ingest, "datasetId": "crm-profiles"},
    }
    out.append(crm)
    if i % 2 == 0:  # a loyalty fragment, newer, overriding part of the name
        out.append({
            "identityMap": {"Email": [{"id": email, "primary": True}], "LoyaltyId": [{"id": "L%05d" % i}]},
            "loyalty": {"tier": ["bronze", "silver", "gold"][i % 3], "points": 100 * i},
            "person": {"name": {"courtesyTitle": "Dr." if i == 4 else None}},
            "_acp_system_metadata": {"ingestTime": ingest + 60_000, "datasetId": "loyalty"},
        })
    for k in range(i % 3 + 1):
        ts = ingest - (k + 1) * 7200_000
        out.append({
            "_id": "evt-%d-%d" % (i, k),
            "timestamp": iso(ts),
            "eventType": ["commerce.purchases", "web.webpagedetails.pageViews"][k % 2],
            "identityMap": {"Email": [{"id": email, "primary": True}]},
            "commerce": {"order": {"priceTotal": round(rnd.uniform(5, 250), 2), "currencyCode": "EUR"}} if k % 2 == 0 else {},
            "_acp_system_metadata": {"ingestTime": ts + 5000},
        })
# an events-only ("empty") profile
out.append({"_id": "evt-anon-1", "timestamp": iso(base_ingest), "eventType": "web.webpagedetails.pageViews",
            "identityMap": {"ECID": [{"id": "99999999999999999999999999999999999999", "primary": True}]},
            "_acp_system_metadata": {"ingestTime": base_ingest + 5000}})
for r in out:
    sys.stdout.write(json.dumps(r, separators=(",", ":")) + "\n")
