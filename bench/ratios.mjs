// Prints the Retort vs llama.cpp table of bench/compare.sh (markdown) from the JSON reports: one row
// per (KV cache setting, depth, test) with both speeds and retort / llama.cpp.
// Usage: node ratios.mjs LLAMA.json LABEL=RETORT.json [LABEL=RETORT.json ...]
//   LLAMA.json: bench/llama-bench.mjs's report (its results carry the cache_type they ran with);
//   LABEL: the --cache-type item the Retort report ran with (`default`: no cache type given).
import fs from "node:fs";

const [llamaFile, ...retortArgs] = process.argv.slice(2);
if (!llamaFile || retortArgs.length === 0) {
    console.error("usage: node ratios.mjs LLAMA.json LABEL=RETORT.json [LABEL=RETORT.json ...]");
    process.exit(2);
}
const read = file => JSON.parse(fs.readFileSync(file, "utf8"));
const llama = read(llamaFile);
const retorts = retortArgs.map(arg => {
    const at = arg.indexOf("=");
    if (at <= 0) {
        console.error(`ratios.mjs: expected LABEL=RETORT.json, found '${arg}'`);
        process.exit(2);
    }
    return { label: arg.slice(0, at), report: read(arg.slice(at + 1)) };
});

const fmt = s => (s ? `${s.mean.toFixed(2)} ± ${s.sd.toFixed(2)}` : "-");
const ratio = (a, b) => (a && b ? (a / b).toFixed(2) : "-");
const mib = b => `${(b / 1048576).toFixed(0)} MiB`;
const name = r => `${r.test}${r.test === "pp" ? r.n_prompt : r.n_gen}${r.n_depth > 0 ? ` @ d${r.n_depth}` : ""}`;
const same = (a, b) => a.test === b.test && a.n_prompt === b.n_prompt && a.n_gen === b.n_gen && a.n_depth === b.n_depth;

const rows = [];
for (const { label, report } of retorts) {
    for (const r of report.results) {
        const peer = llama.results.find(l => l.cache_type === label && same(l, r));
        const peerKv = peer ? `${peer.type_k}/${peer.type_v}, FA ${peer.flash_attention}` : "-";
        rows.push([label, `${r.type_k}/${r.type_v}`, peerKv, name(r), fmt(r.tokens_per_second),
            fmt(peer?.tokens_per_second), ratio(r.tokens_per_second.mean, peer?.tokens_per_second.mean)]);
    }
}
// Tests llama.cpp ran that no Retort report has (a label or test missing on Retort's side).
for (const l of llama.results)
    if (!retorts.some(({ label, report }) => label === l.cache_type && report.results.some(r => same(l, r))))
        rows.push([l.cache_type, "-", `${l.type_k}/${l.type_v}, FA ${l.flash_attention}`, name(l), "-", fmt(l.tokens_per_second), "-"]);

const first = retorts[0].report;
console.log(`model ${first.model}, ${first.threads} threads, ${first.repetitions} repetitions after one warm-up; ` +
    `llama.cpp ${llama.llama_cpp_build} (${llama.cpu_backend}); kernels: ${first.kernels}`);
console.log("");
console.log("| KV cache | retort K/V | llama.cpp K/V, flash attention | test | retort t/s | llama.cpp t/s | retort / llama.cpp |");
console.log("| --- | --- | --- | --- | ---: | ---: | ---: |");
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
console.log("");
const peakRss = Math.max(...retorts.map(r => r.report.peak_rss_bytes));
const load = Math.min(...retorts.map(r => r.report.load_seconds));
console.log(`peak RSS: retort ${mib(peakRss)} (the largest of its runs), llama.cpp ${mib(llama.peak_rss_bytes)} (${ratio(peakRss, llama.peak_rss_bytes)}); ` +
    `load: retort ${load.toFixed(2)} s (the fastest of its runs), llama.cpp ${llama.load_seconds.toFixed(2)} s (${ratio(load, llama.load_seconds)})`);
