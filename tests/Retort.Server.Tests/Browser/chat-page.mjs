// Drives the chat page of a running Retort server in Debian's headless Chromium.
// Usage: node chat-page.mjs BASE_URL OUT_DIR   (BrowserTests.cs starts the server and runs this).
// Exits 1 with one line saying what went wrong; writes screenshots to OUT_DIR.
import { chromium } from "playwright-core";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [base, outDir] = process.argv.slice(2);
if (!base || !outDir) throw new Error("usage: node chat-page.mjs BASE_URL OUT_DIR");
const executablePath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
if (!existsSync(executablePath)) {
  console.error(`error: chromium not found at ${executablePath} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
  process.exit(1);
}

function check(ok, message) {
  if (!ok) throw new Error(message);
}

// The fixture model has random weights: it closes its thinking (</think>) only by chance. Find a seed
// for which it does within the page's settings below, so the page shows both a thinking block and an
// answer, repeatably (asked of the server directly, not through the page).
async function seedWithAnswer() {
  for (let seed = 1; seed <= 50; seed++) {
    const response = await fetch(new URL("/v1/chat/completions", base), {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user", content: "Hello" }], temperature: 1.5, top_p: 1, max_tokens: 120, seed }),
    });
    const message = (await response.json()).choices[0].message;
    if (message.reasoning_content && message.content) return seed;
  }
  throw new Error("no seed in 1..50 makes the fixture model answer after thinking");
}
const step = name => console.error(`step: ${name}`);
step("seed search");
const seed = await seedWithAnswer();
step(`seed ${seed}; launching chromium`);

const profile = mkdtempSync(join(tmpdir(), "retort-chromium-"));
// A fresh profile each run (Playwright passes it as --user-data-dir).
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
  locale: "zh-CN",
  viewport: { width: 1000, height: 760 },
});
try {
  const page = context.pages()[0] ?? await context.newPage();
  const origin = new URL(base).origin;
  const foreign = [];
  page.on("request", r => { if (!r.url().startsWith(origin)) foreign.push(r.url()); });
  const bodies = [];
  // The seed found above; the first request keeps the page's own settings, the second asks for a long answer to stop.
  await page.route("**/v1/chat/completions", route => {
    const body = JSON.parse(route.request().postData());
    bodies.push({ ...body });
    body.seed = seed;
    if (bodies.length === 2) Object.assign(body, { max_tokens: 16000, ignore_eos: true });
    return route.continue({ postData: JSON.stringify(body) });
  });

  step("page load");
  await page.goto(base);
  check(await page.title() === "Retort", "the page title is not Retort");

  // Chinese first (the browser says zh-CN), then English and back.
  check(await page.textContent("#send") === "发送", "the send button is not in Chinese");
  check(await page.textContent("#newChat") === "新对话", "the new-chat button is not in Chinese");
  await page.click("#lang");
  check(await page.textContent("#send") === "Send", "the send button did not switch to English");
  check(await page.getAttribute("#input", "placeholder") === "Ask something; Enter sends, Shift+Enter for a new line", "placeholder not in English");
  await page.click("#lang");
  check(await page.textContent("#send") === "发送", "the page did not switch back to Chinese");

  const examples = await page.$$eval("#examples button", bs => bs.map(b => b.textContent));
  const expected = ["甲乙两人轮流掷骰子，谁先掷出6谁赢，甲先掷，求甲获胜的概率。", "写一个 Python 函数判断回文字符串。",
    "如果所有猫都会飞，而咪咪是一只猫，那么咪咪会飞吗？"];
  check(JSON.stringify(examples) === JSON.stringify(expected), `examples are ${JSON.stringify(examples)}`);

  // Settings: temperature, top-p, max tokens go into the request.
  check(!(await page.isVisible("#temperature")), "settings are open before being asked for");
  await page.click("#toggleSettings");
  check(await page.isVisible("#temperature"), "settings did not open");
  await page.fill("#temperature", "1.5");
  await page.fill("#topP", "1");
  await page.fill("#maxTokens", "120");

  // Count the page's updates of the reply, one per change: it redraws the reply at every streamed event.
  await page.evaluate(() => {
    window.__updates = 0;
    new MutationObserver(records => { window.__updates += records.length; }).observe(document.getElementById("log"), { subtree: true, childList: true, characterData: true });
  });
  step("first question");
  await page.fill("#input", "Hello");
  await page.press("#input", "Enter");
  await page.waitForFunction(() => !document.getElementById("send").disabled && document.querySelectorAll(".msg").length === 2, null, { timeout: 60000 });
  check(bodies[0].stream === true && bodies[0].temperature === 1.5 && bodies[0].top_p === 1 && bodies[0].max_tokens === 120,
    `the request did not carry the settings: ${JSON.stringify(bodies[0])}`);
  check(JSON.stringify(bodies[0].messages) === JSON.stringify([{ role: "user", content: "Hello" }]), "the question was not sent");
  const updates = await page.evaluate(() => window.__updates);
  check(updates >= 10, `the reply changed only ${updates} times: not streamed`);

  const reply = page.locator(".msg.assistant").last();
  const details = reply.locator("details");
  check(await details.isVisible(), "no thinking block");
  check(await details.locator("summary").textContent() === "思考过程", "the thinking block's title is not 思考过程");
  const thought = await details.locator("div").textContent();
  const answer = await reply.locator(":scope > div").last().textContent();
  check(thought.trim().length > 0, "the thinking block is empty");
  check(answer.trim().length > 0, "no answer text");
  // The block folds away once the answer starts, and opens on a click.
  check(!(await details.evaluate(d => d.open)), "the thinking block stayed open after the answer came");
  await details.locator("summary").click();
  check(await details.evaluate(d => d.open), "the thinking block did not open");
  check(/\d+ 个 token/.test(await page.textContent("#stats")), "no token count after the answer");

  // The conversation is kept in the browser and comes back after a reload.
  const saved = await page.evaluate(() => JSON.parse(localStorage.getItem("retort.messages")));
  check(saved.length === 2 && saved[0].content === "Hello" && saved[1].content === answer.trim() && saved[1].reasoning === thought.trim(),
    `localStorage holds ${JSON.stringify(saved).slice(0, 200)}`);
  await page.reload();
  check(await page.locator(".msg").count() === 2, "the conversation did not survive a reload");
  check(await page.inputValue("#maxTokens") === "120", "the settings did not survive a reload");
  check(!(await page.isVisible("#examples")), "examples shown over a conversation");
  await page.locator(".msg.assistant details summary").click();
  await page.screenshot({ path: join(outDir, "chat-page.png"), fullPage: false });

  // Stop: a long answer is cut, the page says so and can send again.
  step("long answer to stop");
  await page.fill("#input", "再写一个更长的回答");
  await page.press("#input", "Enter");
  const last = page.locator(".msg.assistant").last();
  await page.waitForFunction(() => {
    const msgs = document.querySelectorAll(".msg.assistant");
    return msgs.length === 2 && msgs[1].querySelector("details div").textContent.length > 0;
  }, null, { timeout: 60000 });
  check(await page.isEnabled("#stop"), "the stop button is not enabled while answering");
  // force: the streaming reply keeps moving the layout, and Playwright's wait for a "stable"
  // element can outlast its timeout on a loaded machine; the button is checked enabled just above.
  await page.click("#stop", { force: true });
  await page.waitForFunction(() => !document.getElementById("send").disabled, null, { timeout: 10000 });
  check((await last.textContent()).includes("（已停止）"), "the stopped answer is not marked as stopped");
  check(await page.isDisabled("#stop"), "the stop button stays enabled");
  await page.screenshot({ path: join(outDir, "chat-page-stopped.png") });

  // New chat: the conversation is gone, here and in storage, and the examples are back.
  step("new chat");
  await page.click("#newChat");
  check(await page.locator(".msg").count() === 0, "new chat left messages on the page");
  check(await page.isVisible("#examples"), "new chat did not bring the examples back");
  check(await page.evaluate(() => localStorage.getItem("retort.messages")) === "[]", "new chat left the conversation in storage");

  check(foreign.length === 0, `the page fetched from elsewhere (not offline): ${foreign.join(", ")}`);
  console.log(JSON.stringify({ ok: true, seed, updates, thought: thought.length, answer: answer.length }));
} catch (e) {
  console.error("error: " + e.message);
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
