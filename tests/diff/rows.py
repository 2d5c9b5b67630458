# The rows (batch index TAB row, batches in the job's segment order) and
# counters of a job: rows.py JOB RESULT.json OUTPUT_DIR
import json, os, sys, tarfile
job = json.load(open(sys.argv[1]))
res = json.load(open(sys.argv[2]), object_pairs_hook=lambda kv: kv)
res = dict(res)
segs = [s["segmentId"] for s in job.get("filter", {}).get("segments", [])]
rows = []
for d, _, files in os.walk(sys.argv[3]):
    for f in files:
        with tarfile.open(os.path.join(d, f)) as t:
            man = json.load(t.extractfile("manifest.json"))
            b = segs.index(man["segments"][0]["segmentId"]) if len(man["segments"]) == 1 and len(segs) > 1 else 0
            for m in sorted(t.getnames()):
                if m.startswith("part-"):
                    for line in t.extractfile(m).read().decode("utf-8").splitlines():
                        rows.append((b, line))
rows.sort(key=lambda r: r[0])  # stable: a batch's rows keep their order
for b, line in rows:
    print("%d\t%s" % (b, line))
m = dict(res["metrics"])
print("profiles %d" % m["profileCounter"])
print("rows %d" % m["totalExportedProfileCounter"])
print("bad %d" % m["badRecordCounter"])
for ns, c in m.get("exportedProfileByNamespaceCounter", []):
    print("namespace %s %d" % (ns, c))
