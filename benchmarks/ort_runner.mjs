// ONNX Runtime (CPU execution provider) side of benchmarks/onnx_anchor.py, through the npm package onnxruntime-node,
// whose bundled libonnxruntime.so is ONNX Runtime's CPU build. ort_runner.py is the same runner for the Python
// package; both speak this protocol on stdin/stdout, one line each:
//   start:   node ort_runner.mjs MODEL.onnx BATCH SIZE THREADS   -> "ready onnxruntime-node VERSION" (after 3 calls)
//   request: "WARMUP ITERATIONS"                                 -> "times MS MS ..." (one per timed call)
//   request: "quit"                                              -> exits
// The session lives for the whole configuration, so its graph optimisation is paid once, and the runner sleeps on stdin
// while efficientnet-bench has the cores.
// Needs NODE_PATH to hold the node_modules that `npm install --ignore-scripts onnxruntime-node` made.
import { createRequire } from 'node:module';
import * as readline from 'node:readline';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');

const [modelPath, batchText, sizeText, threadsText] = process.argv.slice(2);
const batch = Number(batchText);
const size = Number(sizeText);
const threads = Number(threadsText);

const session = await ort.InferenceSession.create(modelPath, {
  executionProviders: ['cpu'],
  intraOpNumThreads: threads, // counts the calling thread, as torch::set_num_threads does
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
});

// Normal random input, like efficientnet-bench's torch::randn (the values do not change the speed).
const data = new Float32Array(batch * 3 * size * size);
for (let i = 0; i < data.length; i += 2) {
  const u = 1 - Math.random();
  const v = Math.random();
  const r = Math.sqrt(-2 * Math.log(u));
  data[i] = r * Math.cos(2 * Math.PI * v);
  if (i + 1 < data.length) data[i + 1] = r * Math.sin(2 * Math.PI * v);
}
const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, [batch, 3, size, size]) };

async function call() {
  const outputs = await session.run(feeds);
  const logits = outputs[session.outputNames[0]];
  if (logits.dims.length !== 2 || logits.dims[0] !== batch || !Number.isFinite(logits.data[0]))
    throw new Error(`${modelPath}: unexpected output ${JSON.stringify(logits.dims)}`);
}

// A fresh session's first calls are several times slower (seen here: 81 ms, then 13 ms for B0); the engine's process
// has built and folded its model before its first call, so the session is warmed before any round.
const SESSION_WARMUP = 3;
for (let i = 0; i < SESSION_WARMUP; ++i) await call();

const version = ort.env.versions?.common ?? require('onnxruntime-node/package.json').version;
process.stdout.write(`ready onnxruntime-node ${version}\n`);

const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line.trim() === 'quit') break;
  const [warmup, iterations] = line.trim().split(/\s+/).map(Number);
  for (let i = 0; i < warmup; ++i) await call();
  const times = [];
  for (let i = 0; i < iterations; ++i) {
    const t0 = process.hrtime.bigint();
    await call();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  process.stdout.write(`times ${times.map((t) => t.toFixed(3)).join(' ')}\n`);
}
await session.release?.();
process.exit(0);
