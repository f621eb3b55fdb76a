import re,sys,statistics as st,glob,os
d={}
for f in sorted(glob.glob(sys.argv[1]+'/*.txt')):
    b=os.path.basename(f).replace('.txt','')
    load=[]
    for l in open(f):
        if l.startswith('loadavg:'): load.append(float(l.split()[1]))
        m=re.match(r'Benchmark(\S+)-2\s+\d+\s+([\d.]+) ns/op\s+([\d.]+) (MB/s|GFLOP/s)',l)
        if m: d.setdefault((b,m.group(1)),[]).append((float(m.group(2)),float(m.group(3))))
    print(b,'loadavg(1 min) before runs: min %.1f max %.1f'%(min(load),max(load)))
names=sorted(set(k[1] for k in d))
bins=sorted(set(k[0] for k in d))
for n in names:
    row=[]
    for b in bins:
        v=d.get((b,n))
        if v: row.append('%s: %s ms'%(b,'/'.join('%.2f'%(x[0]/1e6) for x in v)))
    print(n); [print('   ',r) for r in row]
print('\nmedian ns/op and ratio workers=2 / workers=1')
for b in bins:
    for fam in ['mode=accumulate','mode=scratch','TiedWorkers']:
        w1=[x for (bb,n),v in d.items() if bb==b and fam in n and 'workers=1' in n for x in v]
        w2=[x for (bb,n),v in d.items() if bb==b and fam in n and 'workers=2' in n for x in v]
        if w1 and w2:
            m1,m2=st.median(x[0] for x in w1),st.median(x[0] for x in w2)
            print('%-18s %-16s w1 %.2f ms  w2 %.2f ms  w2/w1 %.2f'%(b,fam,m1/1e6,m2/1e6,m2/m1))
