import json, sys
sys.path.insert(0,'/work/calibration2/build')
from questions_src import Q
drawn=[json.loads(l) for l in open('/work/calibration2/drawn.jsonl')]
out=[]; used=set()
for n,(idx,q,typ,voice,nd,extra,strength,mode) in enumerate(Q,1):
    d=drawn[idx-1]; seed=[d['doc_id'],d['label']]
    assert idx not in used; used.add(idx)
    gold=[seed]+[list(x) for x in extra]
    docs=[]
    for g in gold:
        if g[0] not in docs: docs.append(g[0])
    tags=["type:"+typ,"voice:"+voice]+["doc:"+x for x in docs]+["names_doc:"+nd]
    o={"id":"c2-%03d"%n,"q":q,"gold":gold,"tags":tags,"seed_unit":seed}
    if strength: o["expect_strength"]=strength
    if mode: o["gold_mode"]=mode
    out.append(o)
with open('/work/calibration2/questions.jsonl','w') as f:
    for o in out: f.write(json.dumps(o,ensure_ascii=False)+"\n")
print(len(out))
