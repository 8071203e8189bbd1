// JsSIP in headless Chromium with real WebRTC (RTCPeerConnection, no
// microphone: the stream comes from WebAudio), driven by sipws's tests:
// a browser softphone in front of `sipws serve`, calling and being
// called by `sipws` commands and the testbed's scripted peer.
//
//   node call.mjs --url ws://127.0.0.1:PORT --user alice --domain sipws.test \
//     --password secret [--call URI [--hangup-after MS]] [--answer N] [--timeout S]
//
// `--call URI`: call, wait until confirmed, hang up after MS (default
// 500). `--answer N`: answer N incoming calls, each until it ends. One
// JSON line per event on stdout; the last is {"event":"done","ok":bool}.
// Exit 0 when every call was confirmed and ended normally, 1 otherwise.
// Chromium: $SIPWS_CHROMIUM or /usr/bin/chromium; JsSIP: ./jssip.js,
// bundled by `npm run bundle`.

import { chromium } from 'playwright-core';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

import { readArgs, say } from '../cli.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = readArgs('browser/call.mjs', {
  '--url': ['url', 'string'],
  '--user': ['user', 'string'],
  '--domain': ['domain', 'string'],
  '--password': ['password', 'string'],
  '--call': ['call', 'string'],
  '--hangup-after': ['hangupAfter', 'number'],
  '--answer': ['answer', 'number'],
  '--timeout': ['timeout', 'number'],
}, { hangupAfter: 500, answer: 0, timeout: 20 });

// Runs inside the page.
async function scenario(a) {
  const emit = (o) => window.say(o);
  const stream = new AudioContext().createMediaStreamDestination().stream;
  const options = { mediaStream: stream, pcConfig: { iceServers: [] }, sessionTimersExpires: 120 };
  const ua = new JsSIP.UA({
    sockets: [new JsSIP.WebSocketInterface(a.url)],
    uri: `sip:${a.user}@${a.domain}`,
    password: a.password,
    register: true,
    session_timers: false,
    user_agent: 'JsSIP in Chromium (sipws interop)',
  });
  const results = [];
  let answered = 0;
  const ended = [];
  let wake = null;
  const track = (session, direction) => {
    const r = { direction, confirmed: false, end: null };
    results.push(r);
    session.on('sdp', (e) => emit({ event: 'sdp', direction, originator: e.originator, type: e.type }));
    session.on('confirmed', () => {
      r.confirmed = true;
      const pc = session.connection;
      emit({
        event: 'confirmed', direction,
        signaling: pc ? pc.signalingState : null,
        remote: pc && pc.remoteDescription ? pc.remoteDescription.type : null,
      });
      if (direction === 'outgoing') setTimeout(() => session.terminate(), a.hangupAfter);
    });
    const finish = (kind) => (e) => {
      r.end = { kind, originator: e.originator, cause: e.cause };
      emit({ event: kind, direction, originator: e.originator, cause: e.cause });
      ended.push(r);
      if (wake) wake();
    };
    session.on('ended', finish('ended'));
    session.on('failed', finish('failed'));
  };
  ua.on('newRTCSession', ({ originator, session, request }) => {
    if (originator !== 'remote') return;
    emit({ event: 'incoming', from: request.from.uri.toString() });
    track(session, 'incoming');
    if (answered < a.answer) {
      answered += 1;
      session.answer(options);
    } else {
      session.terminate({ status_code: 486 });
    }
  });
  const registered = new Promise((resolve, reject) => {
    ua.on('registered', (e) => resolve(e.response.status_code));
    ua.on('registrationFailed', (e) => reject(new Error(`registration failed: ${e.cause}`)));
  });
  ua.start();
  emit({ event: 'registered', status: await registered });
  window.sipwsReady = true;
  let wanted = a.answer;
  if (a.call) {
    wanted += 1;
    const session = ua.call(a.call, options);
    track(session, 'outgoing');
  }
  while (ended.length < wanted) {
    await new Promise((resolve) => { wake = resolve; });
  }
  ua.unregister();
  await new Promise((resolve) => { ua.on('unregistered', resolve); setTimeout(resolve, 2000); });
  ua.stop();
  return results.every((r) => r.confirmed && r.end && r.end.kind === 'ended');
}

const browser = await chromium.launch({
  executablePath: process.env.SIPWS_CHROMIUM || '/usr/bin/chromium',
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--autoplay-policy=no-user-gesture-required',
  ],
});
const timer = setTimeout(async () => {
  say({ event: 'done', ok: false, cause: `timeout after ${args.timeout} s` });
  process.exit(1);
}, args.timeout * 1000);
let ok = false;
try {
  const page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error') process.stderr.write(`page: ${m.text()}\n`); });
  await page.exposeFunction('say', say);
  await page.addScriptTag({ path: path.join(here, 'jssip.js') });
  ok = await page.evaluate(scenario, args);
} catch (e) {
  say({ event: 'error', cause: String(e && e.message ? e.message : e) });
}
clearTimeout(timer);
say({ event: 'done', ok });
await browser.close();
process.exit(ok ? 0 : 1);
