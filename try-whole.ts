import { runWholeSeed } from "./src/whole-sim/whole-simulation.js";
const seed = Number(process.argv[2] ?? 1);
const t = performance.now();
const r = await runWholeSeed({ seed, nodeCount: 3, faultPhaseMs: 20000, recoveryBoundMs: 20000, onTrace: process.env.TRACE ? (l) => console.log(l) : undefined });
console.log(JSON.stringify(r), (performance.now() - t).toFixed(0), "ms");
