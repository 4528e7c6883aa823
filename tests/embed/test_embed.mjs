// test_embed.mjs — the pure parts of bridge/api/comments.js under Node's
// test runner: what a reader may type as their server, the
// authorize_interaction URL built from it, the page language chosen, the
// URLs allowed as links, and the threading rule (api.h's).  The script is
// evaluated with the test flag set, so it exposes its helpers and touches
// no document.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const path = process.env.BB_COMMENTS_JS ??
  fileURLToPath(new URL('../../bridge/api/comments.js', import.meta.url));
const source = readFileSync(path, 'utf8');
globalThis.__fediverseCommentsTest = {};
vm.runInThisContext(source, { filename: path });
const api = globalThis.__fediverseCommentsTest.api;

test('the script is small and exposes its helpers under the test flag', () => {
  assert.ok(Buffer.byteLength(source) < 10 * 1024, `${Buffer.byteLength(source)} bytes`);
  for (const f of ['pickLang', 'normaliseServer', 'interactUrl', 'safeUrl', 'parents', 'count'])
    assert.equal(typeof api[f], 'function', f);
});

test('server names are normalised', () => {
  assert.equal(api.normaliseServer('mastodon.social'), 'mastodon.social');
  assert.equal(api.normaliseServer('  Mastodon.Social  '), 'mastodon.social');
  assert.equal(api.normaliseServer('@alice@m.example'), 'm.example');
  assert.equal(api.normaliseServer('alice@m.example'), 'm.example');
  assert.equal(api.normaliseServer('https://m.example/'), 'm.example');
  assert.equal(api.normaliseServer('https://m.example'), 'm.example');
  assert.equal(api.normaliseServer('http://m.example'), 'm.example');
  assert.equal(api.normaliseServer('m.example:8443'), 'm.example:8443');
  assert.equal(api.normaliseServer('bücher.example'), 'xn--bcher-kva.example');
});

test('junk is refused as a server', () => {
  for (const bad of ['', '   ', null, undefined, 'localhost', 'a b.example', 'javascript:alert(1)',
    'https://m.example/@alice', 'https://m.example/?x=1', 'https://u:p@m.example/',
    'm.example/path', 'ftp://m.example/', '<script>', 'evil.example#x', '-bad.example',
    'http://[::1]/', '1', '.example', 'm..example'])
    assert.equal(api.normaliseServer(bad), null, String(bad));
});

test('the reply URL is the server\'s authorize_interaction for the post id', () => {
  const post = 'https://blog.example/ap/posts/2026/hello?x=1&y=2';
  assert.equal(api.interactUrl('@bob@Mastodon.Social', post),
    'https://mastodon.social/authorize_interaction?uri=' +
    'https%3A%2F%2Fblog.example%2Fap%2Fposts%2F2026%2Fhello%3Fx%3D1%26y%3D2');
  assert.equal(api.interactUrl('https://m.example/', 'https://b.example/p'),
    'https://m.example/authorize_interaction?uri=https%3A%2F%2Fb.example%2Fp');
  assert.equal(api.interactUrl('not a server', post), null);
  assert.equal(api.interactUrl('m.example', 'javascript:alert(1)'), null);
});

test('the language follows <html lang>: French or English', () => {
  assert.equal(api.pickLang('fr'), 'fr');
  assert.equal(api.pickLang('fr-CA'), 'fr');
  assert.equal(api.pickLang('FR'), 'fr');
  assert.equal(api.pickLang('fra'), 'en');
  assert.equal(api.pickLang('en-GB'), 'en');
  assert.equal(api.pickLang('de'), 'en');
  assert.equal(api.pickLang(''), 'en');
  assert.equal(api.pickLang(null), 'en');
});

test('only http(s) URLs become links', () => {
  assert.equal(api.safeUrl('https://m.example/@a'), 'https://m.example/@a');
  assert.equal(api.safeUrl('HTTP://m.example/'), 'HTTP://m.example/');
  for (const bad of ['javascript:alert(1)', 'data:text/html,x', ' https://m.example/',
    'https://m.example/ x', 'https://m.example/\n', '//m.example/', null, 42, {}])
    assert.equal(api.safeUrl(bad), null, String(bad));
});

test('threading: earlier shown parents only, bounded depth', () => {
  const c = (id, parent) => ({ id, parent });
  assert.deepEqual(api.parents([c('a', null), c('b', 'a'), c('c', 'b'), c('d', null)]),
    [-1, 0, 1, -1]);
  // A later parent, an unknown one, a loop, an inherited property name.
  assert.deepEqual(api.parents([c('a', 'b'), c('b', 'a'), c('x', 'gone'), c('y', 'constructor')]),
    [-1, 0, -1, -1]);
  const chain = [c('0', null)];
  for (let i = 1; i < 12; i++) chain.push(c(String(i), String(i - 1)));
  const p = api.parents(chain);
  assert.deepEqual(p.slice(0, 8), [-1, 0, 1, 2, 3, 4, 5, 6]);
  assert.equal(p[8], 6); // depth 8 would be too deep: beside its parent
  assert.equal(p[9], 6);
});

test('likes and boosts are counted in the singular or the plural', () => {
  const { en } = api.T;
  const said = (n, lang) =>
    [api.count(n, api.T[lang].likes, lang), api.count(n, api.T[lang].boosts, lang)];
  assert.deepEqual(said(0, 'en'), ['0 likes', '0 boosts']);
  assert.deepEqual(said(1, 'en'), ['1 like', '1 boost']);
  assert.deepEqual(said(2, 'en'), ['2 likes', '2 boosts']);
  assert.deepEqual(said(0, 'fr'), ['0 j\u2019aime', '0 partage']);
  assert.deepEqual(said(1, 'fr'), ['1 j\u2019aime', '1 partage']);
  assert.deepEqual(said(2, 'fr'), ['2 j\u2019aime', '2 partages']);
  assert.deepEqual(said(1000, 'fr'), ['1000 j\u2019aime', '1000 partages']);
  // What the API might send that is not a count: none.
  for (const junk of [undefined, null, -3, 'x', NaN])
    assert.equal(api.count(junk, en.likes, 'en'), '0 likes', String(junk));
  assert.equal(api.count(1.5, en.likes, 'en'), '1 like');
});
