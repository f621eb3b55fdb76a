import re,sys,glob,os,statistics as st
# per invocation (one go test process): scratch and accumulate B/s over copy B/s at threads = workers
for f in sorted(glob.glob(sys.argv[1]+'/*.txt')):
    b=os.path.basename(f).replace('.txt','')
    runs=[];cur=None
    for l in open(f):
        if l.startswith('loadavg:'): cur={}; runs.append(cur)
        m=re.match(r'Benchmark(\S+)-2\s+\d+\s+([\d.]+) ns/op\s+([\d.]+) MB/s',l)
        if m: cur[m.group(1)]=float(m.group(3))
    for mode in ['accumulate','scratch']:
        for w in [1,2]:
            fr=[]
            for r in runs:
                k=[x for x in r if 'mode='+mode in x and x.endswith('workers=%d'%w)]
                c=[x for x in r if 'op=copy' in x and x.endswith('threads=%d'%w)]
                if k and c: fr.append(r[k[0]]/r[c[0]])
            print('%-18s %-10s workers=%d fraction of copy roofline per run: %s  median %.0f%%'%(b,mode,w,' '.join('%.0f%%'%(100*x) for x in fr),100*st.median(fr)))
