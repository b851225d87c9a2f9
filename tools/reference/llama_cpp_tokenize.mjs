// llama.cpp's token ids for the R1 tokenizer reference strings, for the test that holds Retort's
// GGUF tokenizer to llama.cpp. Loads only the vocabulary of a GGUF (made with
// `retort synth ... --tokenizer ../shared/fixtures/r1-qwen-tokenizer`) through node-llama-cpp and
// tokenizes each "tokenization[].text" of r1-tokenizer-reference.json with special-token parsing on
// (added tokens such as <｜User｜> in the text become their ids, as in Hugging Face) and no BOS.
// Usage: node llama_cpp_tokenize.mjs PEER_DIR MODEL.gguf REFERENCE.json OUT.json
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [peerDir, modelPath, referencePath, outPath] = process.argv.slice(2);
if (!outPath) {
    console.error("usage: node llama_cpp_tokenize.mjs PEER_DIR MODEL.gguf REFERENCE.json OUT.json");
    process.exit(2);
}
const entry = path.join(peerDir, "node_modules", "node-llama-cpp", "dist", "index.js");
const { getLlama, LlamaLogLevel } = await import(pathToFileURL(entry).href);
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath, vocabOnly: true, gpuLayers: 0 });

const reference = JSON.parse(fs.readFileSync(referencePath, "utf8"));
const tokenization = [];
let disagreements = 0;
for (const e of reference.tokenization) {
    const ids = Array.from(model.tokenize(e.text, true));
    const same = ids.length === e.ids.length && ids.every((id, i) => id === e.ids[i]);
    if (!same) {
        disagreements++;
        console.error(`llama.cpp and HF differ on ${JSON.stringify(e.text)}: llama.cpp ${JSON.stringify(ids)}, HF ${JSON.stringify(e.ids)}`);
    }
    tokenization.push({ text: e.text, ids });
}
const out = {
    source: "llama.cpp via node-llama-cpp 3.22.1 (prebuilt CPU binaries), model.tokenize(text, specialTokens: true), vocab-only load",
    tokenizer: "DeepSeek-R1-Distill-Qwen (../shared/fixtures/r1-qwen-tokenizer), GGUF written by retort synth",
    tokenization,
};
fs.writeFileSync(outPath, JSON.stringify(out, null, 1) + "\n");
console.error(`${tokenization.length} strings, ${disagreements} differ from the HF reference`);
await model.dispose();
