// server.mjs - runs the server under test as a child process for the
// nats.js tests: a free loopback port, an optional config file, a log in a
// temp dir (printed when a stop is unclean), and a bounded stop that
// reports a crash, a sanitizer report or any unclean exit.
//
// The binary comes from MN_TEST_SERVER (run_js.sh sets it).
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export const BIN = process.env.MN_TEST_SERVER;

// The reference server is told apart by what --version prints
// (MN_TEST_FLAVOUR overrides).
export function isNatsServer(bin = BIN) {
  const f = process.env.MN_TEST_FLAVOUR;
  if (f) return f.includes("nats-server");
  let out = "";
  try {
    out = execFileSync(bin, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    out = String(e.stdout || "") + String(e.stderr || "");
  }
  out = out.toLowerCase();
  if (out.includes("modnats")) return false;
  if (out.includes("nats-server")) return true;
  return path.basename(bin).includes("nats-server");
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

// True once a connection gets an INFO line.
function accepting(port) {
  return new Promise((resolve) => {
    const c = net.connect({ host: "127.0.0.1", port });
    let buf = "";
    const done = (v) => { c.destroy(); resolve(v); };
    c.setTimeout(2000, () => done(false));
    c.on("error", () => done(false));
    c.on("data", (d) => {
      buf += d.toString();
      if (buf.includes("\n")) done(buf.startsWith("INFO "));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Server {
  // conf: text of a config file valid for both servers (key = value;), or "".
  constructor(conf = "", args = []) {
    this.conf = conf;
    this.args = args;
    this.dir = fs.mkdtempSync(path.join(process.env.MN_TEST_TMPDIR || os.tmpdir(), "mn-js-"));
    this.log = path.join(this.dir, "server.log");
  }

  get url() { return `nats://127.0.0.1:${this.port}`; }

  async start() {
    if (!BIN) throw new Error("MN_TEST_SERVER is not set (run through run_js.sh / ctest)");
    this.port = await freePort();
    const args = ["-a", "127.0.0.1", "-p", String(this.port)];
    if (this.conf) {
      const cf = path.join(this.dir, "server.conf");
      fs.writeFileSync(cf, this.conf);
      args.unshift("-c", cf);
    }
    const fd = fs.openSync(this.log, "a");
    this.proc = spawn(BIN, [...args, ...this.args], { stdio: ["ignore", fd, fd] });
    fs.closeSync(fd);
    this.exit = new Promise((resolve) => this.proc.on("exit", (code, sig) => resolve({ code, sig })));
    this.exited = null;
    this.exit.then((e) => { this.exited = e; });
    const end = Date.now() + 15000;
    while (Date.now() < end) {
      if (this.exited) throw new Error(`server exited during startup: ${JSON.stringify(this.exited)}\n${this.tail()}`);
      if (await accepting(this.port)) return this;
      await sleep(10);
    }
    this.proc.kill("SIGKILL");
    throw new Error(`server did not come up on port ${this.port}\n${this.tail()}`);
  }

  tail(n = 30) {
    try {
      return fs.readFileSync(this.log, "utf8").trimEnd().split("\n").slice(-n).join("\n");
    } catch {
      return "(no log)";
    }
  }

  // SIGTERM, 10 s, then SIGKILL.  Throws unless the exit was clean: code
  // 0, death by our SIGTERM, or (nats-server only) code 1, and no
  // sanitizer report in the log.
  async stop() {
    if (!this.proc) return;
    const proc = this.proc;
    this.proc = null;
    if (!this.exited) proc.kill("SIGTERM");
    const t = setTimeout(() => proc.kill("SIGKILL"), 10000);
    const e = await this.exit;
    clearTimeout(t);
    const log = fs.existsSync(this.log) ? fs.readFileSync(this.log, "utf8") : "";
    const report = ["ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
      "WARNING: ThreadSanitizer"].some((s) => log.includes(s));
    const clean = !report && (e.code === 0 || e.sig === "SIGTERM" || (e.code === 1 && isNatsServer()));
    if (!clean) throw new Error(`server did not exit cleanly: ${JSON.stringify(e)}\n${this.tail()}\nkept: ${this.dir}`);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// A server with JetStream on, storing under its own temp dir
// (`-js -sd <dir>/js`, the same flags for modnats and nats-server).
export function jetStreamServer(conf = "", args = []) {
  const s = new Server(conf, args);
  s.args = ["-js", "-sd", path.join(s.dir, "js"), ...args];
  return s;
}
