set logscale xy
set xlabel 'units N'
set ylabel 'wall time (ms, median of 3)'
set key top left
set grid
set xrange [50:3000]
set title 'BioRNN: wall time against the number of units N' noenhanced
set terminal pngcairo size 1000,650
set output 'docs/performance/scaling.png'
plot 'docs/performance/scaling-bptt.dat' with linespoints title 'BPTT step (T = 100, B = 32)', 'docs/performance/scaling-eprop.dat' with linespoints title 'e-prop step (T = 100, B = 32)',      'docs/performance/scaling-lyapunov-k32.dat' with linespoints title 'λ_1…32, 1000 steps' noenhanced, 'docs/performance/scaling-full-spectrum.dat' with linespoints title 'full spectrum, 100 steps'
set terminal svg size 1000,650
set output 'docs/performance/scaling.svg'
replot
