# Per-process ratios of rows (kernel / copy probe, kernel / kernel) in the noise
# study's raw files: is the noise a factor common to the rows of one process?
#   python3 results/noise/ratio.py results/noise/raw/warmup/default.txt ...
import re, collections, statistics as st, sys

def load(f):
    proc = None
    d = collections.defaultdict(dict)
    for line in open(f):
        m = re.match(r'proc: (.*)', line)
        if m:
            proc = m.group(1)
            continue
        m = re.match(r'Benchmark(\S+)-2\s+\d+\s+(\d+) ns/op', line)
        if m:
            d[proc].setdefault(m.group(1), []).append(int(m.group(2)))
    return d

def relmad(x):
    m = st.median(x)
    return st.median([abs(v - m) for v in x]) / m

S = 'Backward/impl=sharded/V=50257/D=768/N=8192/dist=zipf/mode='
rows = {'simd acc': 'Backward/impl=simd/V=50257/D=768/N=8192/dist=zipf/mode=accumulate/workers=1',
        'sh2 acc': S + 'accumulate/workers=2', 'sh2 scr': S + 'scratch/workers=2', 'sh1 acc': S + 'accumulate/workers=1',
        'copy1': 'Memory/op=copy/size=268435456/threads=1', 'copy2': 'Memory/op=copy/size=268435456/threads=2'}
for f in sys.argv[1:]:
    d = load(f)
    def series(k):
        return [st.median(d[p][rows[k]]) for p in d]
    print(f, len(d), 'processes: relative MAD over processes')
    for k in rows:
        print('  %-18s %5.1f%%' % (k, 100 * relmad(series(k))))
    for a, b in [('simd acc', 'copy1'), ('sh2 acc', 'copy2'), ('sh2 scr', 'copy2'), ('sh1 acc', 'copy1'), ('sh2 acc', 'simd acc'), ('sh2 scr', 'sh1 acc')]:
        r = [x / y for x, y in zip(series(a), series(b))]
        print('  %-18s %5.1f%%' % (a + ' / ' + b, 100 * relmad(r)))
