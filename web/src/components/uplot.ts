// uPlot and its stylesheet, split into their own chunk (loaded by Chart.svelte).
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export default uPlot;
