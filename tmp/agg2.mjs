import fs from 'node:fs';
const f = process.argv[2];
const p = JSON.parse(fs.readFileSync(f));
const byId = new Map(p.nodes.map(n=>[n.id,n]));
const parent = new Map(); for (const n of p.nodes) for (const c of n.children||[]) parent.set(c, n.id);
const counts = new Map(); for (let i=0;i<p.samples.length;i++){ counts.set(p.samples[i], (counts.get(p.samples[i])||0)+(p.timeDeltas[i]||0)); }
const self = new Map(), total = new Map();
const name = (n) => { const u=n.callFrame.url.replace(/.*node_modules\//,'nm/').replace(/.*\/(main|wt\/[^/]+)\//,''); return (n.callFrame.functionName||'(anon)')+' '+u+':'+n.callFrame.lineNumber; };
for (const [id,t] of counts){ const n=byId.get(id); const k=name(n); self.set(k,(self.get(k)||0)+t); const seen=new Set(); let cur=id; while(cur!==undefined){ const kk=name(byId.get(cur)); if(!seen.has(kk)){seen.add(kk); total.set(kk,(total.get(kk)||0)+t);} cur=parent.get(cur);} }
const top=(m,k)=>[...m].sort((a,b)=>b[1]-a[1]).slice(0,k).map(([a,b])=>(b/1000).toFixed(0).padStart(7)+' ms '+a).join('\n');
console.log('SELF'); console.log(top(self,30)); console.log('TOTAL'); console.log(top(total,60));
