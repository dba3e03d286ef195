# bench.gp - the plot of `make bench` (gnuplot; run by build/bench/bench):
#   gnuplot -e "dir='build/bench'" .ci/bench/bench.gp   ->  dir/bench.svg
# Left: one loop iteration against the number of descriptors watched, one
# of them ready, per backend (both axes logarithmic). Right: each echo
# server's messages a second as a ratio to the epoll server, one
# connection, 64 B and 16 KiB messages (DIR/echo-plot.dat).
if (!exists("dir")) dir = "build/bench"
set terminal svg size 1000,420 dynamic font "sans,11" background "white"
set output dir."/bench.svg"
set datafile separator ","
set multiplot layout 1,2

set title "Backends: one loop iteration, 1 descriptor ready"
set logscale xy
set xlabel "descriptors watched"
set ylabel "microseconds"
set key top left
set xtics ("100" 100, "1,000" 1000, "10,000" 10000)
set xrange [70:14000]
file = dir."/backends.csv"
plot for [m in "epoll poll select"] file \
     using (strcol(1) eq m && $2 == 1 && $4 > 0 ? $3 : 1/0):4 \
     with linespoints lw 2 pt 7 title m

unset logscale
set title "Echo, 1 connection: messages a second, x the epoll server"
set xlabel ""
set ylabel "x epoll"
set yrange [0:*]
set xrange [*:*]
set xtics rotate by -35 left font ",9"
set key outside top center horizontal
set datafile missing "?"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
# echo-plot.dat: one row per server (bench.c writes it from echo.csv's
# 1-connection rows); "?" where a server has no figure (a line server at
# 16 KiB).
echo = dir."/echo-plot.dat"
plot echo every ::1 using 2:xtic(1) title "64 B", '' every ::1 using 3 title "16 KiB"
unset multiplot
