#!/bin/sh
# Per-benchmark noise of a paired pool: sd of log(sec/op) over the OLD runs,
# and sd of log(new/old) over the pairs (sqrt(2) x the first if pairing
# removed nothing). Usage: sh noise.sh POOL.txt
awk '/^pair:/{p=$2} /^side:/{s=$2} /^Benchmark/{split($1,a,"impl="); split(a[2],b,"/"); k=b[1] ($1 ~ /workers=2/ ? "/workers=2" : ""); v[p,s,k]=$3; ks[k]=1; if(p>np)np=p}
END{for(k in ks){n=0;sd=0;sdm=0;su=0;m=0; for(i=1;i<=np;i++){if(v[i,"old",k]&&v[i,"new",k]){d=log(v[i,"new",k]/v[i,"old",k]); n++; sd+=d; sdm+=d*d; x=log(v[i,"old",k]); m+=x; su+=x*x}}
printf "%-18s pairs %d  sd(log t) %.3f  sd(log new/old) %.3f  ratio %.2f\n",k,n,sqrt(su/n-(m/n)^2),sqrt(sdm/n-(sd/n)^2),sqrt(sdm/n-(sd/n)^2)/sqrt(su/n-(m/n)^2)}}' "$1" | sort
