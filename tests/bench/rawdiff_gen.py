# Generator for rawdiff.sh: profiles of 0-3 fragments and 0-2 events with
# overlapping projected names, odd identity namespaces ([], null, {}), doubles,
# escapes and occasional whitespace.  rawdiff_gen.py SEED writes dump.ndjson
# and job0-3.json in the current directory.
import random, json, sys
random.seed(int(sys.argv[1]))
def idmap(k):
    m={"Email":[{"id":"u%d"%k,"primary":True}]}
    for ns in random.sample(["ECID","Phone","CRM","X%d"%random.randint(0,40)], random.randint(0,3)):
        r=random.random()
        if r<0.1: m[ns]=[]
        elif r<0.15: m[ns]=None
        elif r<0.2: m[ns]={}
        else: m[ns]=[{"id":"v%d"%random.randint(0,5),"primary":False}]
    return m
vals=["x",1,-0.0,2.5,None,True,{"name":"n","city":"c"},[{"name":"a"},{"b":1}],{"name":{"first":"F"}}, "a/b", "é"]
lines=[]
for k in range(4000):
    nf=random.randint(0,3); ne=random.randint(0,2)
    recs=[]
    for f in range(nf):
        r={"identityMap":idmap(k)}
        for h in random.sample(["person","homeAddress","loyalty","other","xdm:person"], random.randint(0,3)):
            r[h]=random.choice(vals)
        meta={}
        if random.random()<0.8: meta["ingestTime"]=1700000000000+random.randint(0,10**9)
        if random.random()<0.5: r["extSourceSystemAudit"]={"lastUpdatedDate":"2023-11-%02dT00:00:00Z"%random.randint(1,28)}
        r["_acp_system_metadata"]=meta
        recs.append(r)
    for e in range(ne):
        recs.append({"identityMap":{"Email":[{"id":"u%d"%k,"primary":True}],"Ev":[{"id":"e"}]},"timestamp":"2023-11-01T00:00:00Z","web":{"x":1},"_acp_system_metadata":{"ingestTime":1700000000000}})
    random.shuffle(recs)
    for r in recs:
        s=json.dumps(r,separators=(",",":"),ensure_ascii=random.random()<0.1)
        if random.random()<0.03: s=s.replace(":",": ",1)
        lines.append(s)
open("dump.ndjson","w").write("\n".join(lines)+"\n")
for i,f in enumerate(["person.name,homeAddress","person,loyalty.x","homeAddress.name.first,other","xdm:person.name,person"]):
    json.dump({"fields":f,"destination":{"datasetId":"adv"},"schema":{"name":"s"}},open("job%d.json"%i,"w"))
