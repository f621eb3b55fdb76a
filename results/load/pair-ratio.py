import sys,re,statistics as st
for f in sys.argv[1:]:
    w={}
    rs=[]
    cur={}
    for line in open(f):
        m=re.match(r'Benchmark\S+workers=(\d)-2\s+\d+\s+(\d+(?:\.\d+)?) ns/op',line)
        if m:
            cur[m.group(1)]=float(m.group(2))
            if m.group(1)=='2' and '1' in cur:
                rs.append(cur['2']/cur['1']); cur={}
    rs.sort()
    print(f, 'n=%d median w2/w1=%.3f  all=%s'%(len(rs), st.median(rs), ' '.join('%.2f'%r for r in rs)))
