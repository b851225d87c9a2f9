// Greedy continuation of given token ids with llama.cpp (node-llama-cpp), to check that a GGUF Retort
// wrote (e.g. `retort synth --type q4_k_m`) computes the same in llama.cpp as in Retort
// (`retort run FILE --raw --temp 0 --ignore-eos --json`, whose prompt_tokens give the ids).
// Usage: node llama_cpp_greedy.mjs PEER_DIR MODEL.gguf N ID [ID ...]  -> JSON array of N ids
import path from "node:path";
import { pathToFileURL } from "node:url";

const [peerDir, modelPath, nArg, ...idArgs] = process.argv.slice(2);
const entry = path.join(peerDir, "node_modules", "node-llama-cpp", "dist", "index.js");
const { getLlama, LlamaLogLevel } = await import(pathToFileURL(entry).href);
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
const context = await model.createContext({ contextSize: 256 });
const sequence = context.getSequence();
const out = [];
for await (const token of sequence.evaluate(idArgs.map(Number), { temperature: 0, yieldEogToken: true })) {
    out.push(token);
    if (out.length >= Number(nArg)) break;
}
console.log(JSON.stringify(out));
await context.dispose();
await model.dispose();
