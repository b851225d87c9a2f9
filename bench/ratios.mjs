// Prints the Retort vs llama.cpp table of bench/compare.sh from the two JSON reports.
// Usage: node ratios.mjs RETORT.json LLAMA.json
import fs from "node:fs";

const [retort, llama] = process.argv.slice(2, 4).map(f => JSON.parse(fs.readFileSync(f, "utf8")));
const fmt = s => (s ? `${s.mean.toFixed(2)} ± ${s.sd.toFixed(2)}` : "-");
const ratio = (a, b) => (a && b ? (a / b).toFixed(2) : "-");
const mib = b => `${(b / 1048576).toFixed(0)} MiB`;
const rows = [
    ["test", "retort", "llama.cpp", "retort / llama.cpp"],
    [`pp${retort.n_prompt} t/s`, fmt(retort.pp_tokens_per_second), fmt(llama.pp_tokens_per_second),
        ratio(retort.pp_tokens_per_second?.mean, llama.pp_tokens_per_second?.mean)],
    [`tg${retort.n_gen} t/s`, fmt(retort.tg_tokens_per_second), fmt(llama.tg_tokens_per_second),
        ratio(retort.tg_tokens_per_second?.mean, llama.tg_tokens_per_second?.mean)],
    ["peak RSS", mib(retort.peak_rss_bytes), mib(llama.peak_rss_bytes), ratio(retort.peak_rss_bytes, llama.peak_rss_bytes)],
    ["load s", retort.load_seconds.toFixed(2), llama.load_seconds.toFixed(2), ratio(retort.load_seconds, llama.load_seconds)],
];
console.log(`model ${retort.model}, ${retort.threads} threads, ${retort.repetitions} repetitions after one warm-up`);
console.log(rows.map(r => `| ${r.join(" | ")} |`).slice(0, 1).concat(["| --- | ---: | ---: | ---: |"],
    rows.slice(1).map(r => `| ${r.join(" | ")} |`)).join("\n"));
