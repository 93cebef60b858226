# The two plots of docs/PERFORMANCE.md, from the data that report.py writes.
#   gnuplot -e "dir='docs/plots'" docs/plots/plots.gp
# (Debian package gnuplot-nox, or any gnuplot with the pngcairo terminal.)
if (!exists("dir")) dir = "."

set terminal pngcairo size 900,520 font "DejaVu Sans,11"
set grid ytics mytics
set key off

# 1. ns per switch by system, log scale.
set output dir."/switch.png"
set title "Cost of one switch (half a round trip), median ns, log scale"
set ylabel "ns per switch"
set logscale y
set yrange [1:*]
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.8
set xtics rotate by -25 scale 0
plot dir."/switch.dat" using 2:xtic(1) linecolor rgb "#3b6ea8", \
     "" using 0:($2*1.25):(sprintf("%.1f", $2)) with labels notitle

# 2. Cost against the number of live suspended contexts.
reset
set terminal pngcairo size 900,600 font "DejaVu Sans,11"
set output dir."/scaling.png"
set title "Cost against live suspended contexts (16 KiB stacks, no guard pages), median ns"
set xlabel "live contexts"
set ylabel "ns per operation"
set logscale xy
set format x "10^{%L}"
set grid xtics ytics mytics
set key below
set xrange [500:2000000]
plot dir."/scaling.dat" using 1:2 with linespoints lw 2 pt 7 title "switchyard switch round trip", \
     "" using 1:3 with linespoints lw 2 pt 5 title "raw Boost.Context round trip", \
     "" using 1:4 with linespoints lw 2 pt 9 title "switchyard create+destroy (unstarted)", \
     "" using 1:5 with linespoints lw 2 pt 11 title "switchyard create+switch+destroy"
