source bundle/env.sh
mkdir -p /etc/OpenCL/vendors && echo libnvidia-opencl.so.1 > /etc/OpenCL/vendors/nvidia.icd
B=bundle/bin/xrdbench
D=/tmp/xrd-synth-1202
timeout 100 $B dataset synth --out $D --frames 1202 --threads 16 > /dev/null
for w in write no-write write no-write; do
  extra=""; [ $w = no-write ] && extra=--no-write
  timeout 80 $B run --dataset $D --strategy opencl-batched --integrator gpu --device opencl --repeats 3 $extra --out /tmp/wb-$w 2>&1 | grep -E "fps|valid" | tail -2
done
cp /tmp/wb-write/results.json $OUT/write.json; cp /tmp/wb-no-write/results.json $OUT/no-write.json
