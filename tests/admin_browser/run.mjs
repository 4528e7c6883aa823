// Browser test of the admin pages: the real blogbridge binary on loopback,
// seeded with followers (hostile names among them) and a post whose
// delivery failed, driven in Debian's chromium (headless) by playwright-core:
// log in (a wrong password first), read and search the followers, remove
// one, block a server, moderate the comments (approve one, reject one in
// bulk), open a post's delivery page and resend, a POST with
// a wrong CSRF token (refused, the store unchanged), logout, and pages
// refused after it.  No payload in a name or title may run (a dialog, or a
// flag the payload would set, fails the test).  Avatars come from a
// loopback https server (a self-signed certificate made with openssl, the
// browser told to accept it): they must load on the followers and comments
// pages with no Content-Security-Policy violation, while an http image
// from elsewhere is refused by the policy.  Every page is
// screenshotted at desktop and 360 px phone width into OUTPUT_DIR, where
// the phone layout must not overflow sideways.
//
//   node run.mjs PATH/TO/blogbridge OUTPUT_DIR
//
// Exits 0 only when every check passed; chromium missing is a failure.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const [binary, outDir] = process.argv.slice(2);
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const PASSWORD = 'browser test password';
const XSS_SCRIPT = '<script>window.__xss=1;alert(1)</script>';
const XSS_IMG = '"><img src=x onerror="window.__xss=1;alert(2)">';
let passed = 0, failed = 0;

function check(ok, what) {
	if (ok) { passed++; console.log(`ok   ${what}`); }
	else { failed++; console.log(`FAIL ${what}`); }
}

if (!binary || !outDir) {
	console.error('usage: node run.mjs PATH/TO/blogbridge OUTPUT_DIR');
	process.exit(2);
}
if (!fs.existsSync(chromiumPath)) {
	console.error(`admin_browser: no chromium at ${chromiumPath} (apt-get install chromium)`);
	process.exit(1);
}
const { chromium } = await import('playwright-core');

function freePort() {
	return new Promise((resolve, reject) => {
		const s = net.createServer();
		s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
		s.on('error', reject);
	});
}

async function waitPort(port, ms) {
	for (let t = 0; t < ms; t += 50) {
		const ok = await new Promise((resolve) => {
			const c = net.connect(port, '127.0.0.1', () => { c.end(); resolve(true); });
			c.on('error', () => resolve(false));
		});
		if (ok) return true;
		await new Promise((r) => setTimeout(r, 50));
	}
	return false;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bb-admin-browser-'));
const port = await freePort();

// The avatars' server: https on loopback, a 2x2 PNG.
const AVATAR_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==', 'base64');
execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
	'-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(dir, 'avatar.key'),
	'-out', path.join(dir, 'avatar.crt')], { stdio: 'ignore' });
const avatarHits = [];
const avatarServer = https.createServer({ key: fs.readFileSync(path.join(dir, 'avatar.key')),
	cert: fs.readFileSync(path.join(dir, 'avatar.crt')) }, (req, res) => {
	avatarHits.push(req.url);
	res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Length': AVATAR_PNG.length });
	res.end(AVATAR_PNG);
});
await new Promise((r) => avatarServer.listen(0, '127.0.0.1', r));
const avatarOrigin = `https://127.0.0.1:${avatarServer.address().port}`;
const origin = `http://127.0.0.1:${port}`;
const conf = path.join(dir, 'bridge.conf');
const db = path.join(dir, 'data', 'bridge.db');
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(dir, 'feed.xml'), '<?xml version="1.0"?>\n<rss version="2.0"><channel>' +
	'<title>T</title><link>https://blog.test/</link><description>d</description></channel></rss>\n');
fs.writeFileSync(conf, `# admin browser test\n[site]\nbase_url = ${origin}\nhandle = blog\n` +
	`name = Browser Test\nsummary = s\nfeed = feed.xml\n\n[server]\nlisten = 127.0.0.1:${port}\n` +
	`\n[federation]\nallow_private_addresses = true\n\n[admin]\npassword_hash =\n`);
const cli = (...args) => execFileSync(binary, ['-c', conf, ...args], { encoding: 'utf8' });
const sql = (q) => execFileSync('sqlite3', [db, q], { encoding: 'utf8' }).trim();
const esc = (s) => s.replace(/'/g, "''");

execFileSync(binary, ['-c', conf, 'passwd'], { input: PASSWORD + '\n' });
cli('followers');
const rows = [];
for (let i = 0; i < 30; i++)
	rows.push(`('https://good.example/u/${i}', '@user${i}@good.example', 'https://good.example/u/${i}/inbox',` +
		` 'https://good.example/inbox', 'https://good.example/f/${i}', ${1700000000 + i})`);
rows.push(`('https://good.example/u/alice', '@alice@good.example', 'https://good.example/u/alice/inbox',` +
	` 'https://good.example/inbox', 'https://good.example/f/a', 1700001000)`);
rows.push(`('https://evil.example/u/1', '${esc('@' + XSS_SCRIPT + '@evil.example')}',` +
	` 'https://evil.example/u/1/inbox', NULL, 'https://evil.example/f/1', 1700001001)`);
rows.push(`('https://evil.example/u/2', '${esc('@' + XSS_IMG + '@evil.example')}',` +
	` 'https://evil.example/u/2/inbox', NULL, 'https://evil.example/f/2', 1700001002)`);
sql(`INSERT INTO followers VALUES ${rows.join(',')};` +
	`INSERT INTO posts(guid, ap_id, url, title, hash, object_json, published, updated, created_at)` +
	` VALUES ('g1', '${origin}/ap/posts/p1', 'https://blog.test/p1', '${esc(XSS_IMG + ' title')}',` +
	` 'h', '{}', 1700000000, 1700000000, 1700000000);` +
	`INSERT INTO activities(ap_id, json, created_at) VALUES ('${origin}/ap/posts/p1/activity', '{}', 1700000000);` +
	`INSERT INTO hosts(host) VALUES ('good.example');` +
	`INSERT INTO deliveries(activity, inbox, host, state, attempts, next_attempt, last_status, last_error,` +
	` created_at, updated_at) VALUES (1, 'https://good.example/inbox', 'good.example', 2, 9, 0, 410, 'gone',` +
	` 1700000000, 1700000000);` +
	`INSERT INTO actors(id, inbox, handle, key_id, public_key_pem, fetched_at, name, url, avatar) VALUES` +
	` ('https://good.example/u/bob', 'https://good.example/i', '@bob@good.example',` +
	` 'https://good.example/u/bob#k', 'pem', 1700000000, '${esc(XSS_SCRIPT + 'Bob')}', 'https://good.example/@bob',` +
	` '${avatarOrigin}/bob.png'),` +
	` ('https://good.example/u/29', 'https://good.example/i', '@user29@good.example',` +
	` 'https://good.example/u/29#k', 'pem', 1700000000, 'User 29', NULL, '${avatarOrigin}/u29.png?a=1&b=2'),` +
	` ('https://good.example/u/28', 'https://good.example/i', '@user28@good.example',` +
	` 'https://good.example/u/28#k', 'pem', 1700000000, 'User 28', NULL, 'http://127.0.0.1:9/plain.png');` +
	`INSERT INTO comments(ap_id, post, parent, author, content, status, published, updated, received) VALUES` +
	` ('https://good.example/n/1', 1, NULL, 'https://good.example/u/bob',` +
	`  '${esc('<p>first ' + XSS_SCRIPT + XSS_IMG + '</p>')}', 0, 1700000100, 1700000100, 1700000100),` +
	` ('https://good.example/n/2', 1, 'https://good.example/n/1', 'https://good.example/u/bob',` +
	`  '<p>second, <a href="https://x.example/">a link</a></p>', 0, 1700000200, 1700000200, 1700000200),` +
	` ('https://good.example/n/3', 1, NULL, 'https://good.example/u/bob', '<p>just for you</p>', 3,` +
	`  1700000300, 1700000300, 1700000300);`);

const log = fs.openSync(path.join(outDir, 'bridge.log'), 'w');
const bridge = spawn(binary, ['-c', conf, 'serve'], { stdio: ['ignore', log, log] });
let browser;
try {
	check(await waitPort(port, 20000), 'the bridge listens');
	browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
	// The avatars' certificate is the test's own: accepted (the policy is
	// still the page's).
	const context = await browser.newContext({ viewport: { width: 1280, height: 900 },
		ignoreHTTPSErrors: true });
	const page = await context.newPage();
	// Every Content-Security-Policy violation, from the start of each page.
	await page.addInitScript(() => {
		window.__csp = [];
		document.addEventListener('securitypolicyviolation',
			(e) => window.__csp.push(`${e.effectiveDirective} ${e.blockedURI}`));
	});
	const violations = () => page.evaluate(() => window.__csp);
	// Whether every avatar of the page has loaded (and how many there are).
	async function avatarsLoaded() {
		await page.waitForFunction(() => [...document.querySelectorAll('img.avatar')]
			.every((i) => i.complete), null, { timeout: 10000 });
		return page.evaluate(() => [...document.querySelectorAll('img.avatar')]
			.map((i) => i.naturalWidth));
	}
	let dialogs = 0;
	page.on('dialog', async (d) => { dialogs++; await d.dismiss(); });
	const xssRan = async () => dialogs > 0 || (await page.evaluate(() => window.__xss === 1));

	async function shoot(name) {
		await page.setViewportSize({ width: 1280, height: 900 });
		await page.screenshot({ path: path.join(outDir, `${name}-desktop.png`), fullPage: true });
		await page.setViewportSize({ width: 360, height: 740 });
		const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
		check(overflow <= 361, `${name}: no sideways overflow at 360 px (${overflow})`);
		await page.screenshot({ path: path.join(outDir, `${name}-phone.png`), fullPage: true });
		await page.setViewportSize({ width: 1280, height: 900 });
	}

	// Refused without a session: to the login.
	await page.goto(`${origin}/admin/followers`);
	check(page.url().endsWith('/admin/login'), 'without a session: the login page');
	await shoot('login');
	await page.fill('#password', 'not the password');
	await page.click('#login');
	check((await page.textContent('main')).includes('Wrong password'), 'a wrong password is refused');
	await page.fill('#password', PASSWORD);
	await page.click('#login');
	check(page.url() === `${origin}/admin`, 'logged in: the overview');
	check((await page.textContent('main')).includes('followers'), 'the overview shows the followers');
	// serve's first poll is recorded (its time in the store's meta first).
	for (let t = 0; t < 100 && sql("SELECT count(*) FROM meta WHERE key = 'feed_poll_at'") !== '1'; t++)
		await new Promise((r) => setTimeout(r, 100));
	await page.reload();
	check(/Last poll: .*, ok: 0 items/.test(await page.textContent('#last-poll')),
		'the overview shows the last feed poll');
	const cookies = await context.cookies();
	const sess = cookies.find((c) => c.name === 'bb_admin');
	check(sess && sess.httpOnly && sess.sameSite === 'Strict' && sess.path === '/admin',
		'the session cookie is HttpOnly, SameSite=Strict, Path=/admin');
	await shoot('overview');

	// The followers, hostile names shown as text.
	await page.goto(`${origin}/admin/followers`);
	const followerRows = await page.locator('tr.follower').count();
	check(followerRows === 33 - 0 && followerRows <= 50, `the followers are listed (${followerRows})`);
	const text = await page.textContent('#followers');
	check(text.includes(XSS_SCRIPT) && text.includes('onerror='), 'hostile handles appear as text');
	check(!(await xssRan()), 'no payload ran on the followers page');
	{
		const widths = await avatarsLoaded();
		check(widths.length === 1 && widths[0] === 2,
			`the https avatar loads on the followers page, the http one is left out (${widths})`);
		check(avatarHits.includes('/u29.png?a=1&b=2'), 'the avatar came from its server');
		const v = await violations();
		check(v.length === 0, `no CSP violation on the followers page (${v})`);
		// The policy itself: an http image from elsewhere is refused.
		await page.evaluate((u) => new Promise((resolve) => {
			const i = new Image();
			i.onload = i.onerror = () => resolve();
			i.src = u;
			document.body.appendChild(i);
		}), 'http://127.0.0.1:9/probe.png');
		await page.waitForFunction(() => window.__csp.length > 0, null, { timeout: 5000 }).catch(() => {});
		const v2 = await violations();
		check(v2.length === 1 && v2[0] === 'img-src http://127.0.0.1:9/probe.png',
			`the CSP refuses an http image from elsewhere (${v2})`);
	}
	await shoot('followers');
	await page.fill('input[name=q]', 'evil.example');
	await page.click('button:has-text("Search")');
	check((await page.locator('tr.follower').count()) === 2, 'search by server');
	await page.fill('input[name=q]', 'alice');
	await page.click('button:has-text("Search")');
	check((await page.locator('tr.follower').count()) === 1, 'search by handle');

	// Remove a follower.
	await page.locator('tr.follower', { hasText: '@alice@good.example' }).locator('button:has-text("Remove")').click();
	check(sql("SELECT count(*) FROM followers WHERE actor = 'https://good.example/u/alice'") === '0',
		'a follower removed from the page is gone from the store');

	// A POST with a wrong CSRF token: 403, nothing changes.
	const before = sql('SELECT count(*) FROM followers');
	const forged = await context.request.post(`${origin}/admin/followers/remove`, {
		form: { csrf: 'f'.repeat(64), actor: 'https://good.example/u/1' }, maxRedirects: 0 });
	check(forged.status() === 403, `a wrong CSRF token is refused (${forged.status()})`);
	check(sql('SELECT count(*) FROM followers') === before, 'and the store is unchanged');

	// Block a server.
	await page.goto(`${origin}/admin/blocks`);
	await page.fill('#block-value', 'evil.example');
	await page.click('#block-add');
	check(sql("SELECT count(*) FROM followers WHERE actor LIKE 'https://evil.example/%'") === '0',
		'blocking a server removes its followers');
	check((await page.textContent('#blocks')).includes('evil.example'), 'the block is listed');
	await shoot('blocks');

	// Posts, a post's deliveries, and a resend.
	await page.goto(`${origin}/admin/posts`);
	check((await page.textContent('#posts')).includes('onerror='), 'a hostile title appears as text');
	check(!(await xssRan()), 'no payload ran on the posts page');
	await shoot('posts');
	await page.click('#posts a');
	check((await page.textContent('#deliveries')).includes('good.example'), 'the post shows its deliveries');
	check(!(await xssRan()), 'no payload ran on the post page');
	await shoot('post');
	await page.click('button:has-text("Resend to failed")');
	check(sql('SELECT count(*) FROM deliveries WHERE state = 2') === '0', 'resend queues the failed delivery');

	// Moderation: the queue, approve one, reject the other in bulk.
	await page.goto(`${origin}/admin/comments`);
	const queue = await page.textContent('main');
	check(queue.includes('first') && queue.includes('second') && !queue.includes('just for you'),
		'the queue lists the waiting comments, private replies apart');
	check(queue.includes(XSS_SCRIPT + 'Bob'), 'a hostile author name appears as text');
	check(!(await xssRan()), 'no payload ran on the comments page');
	{
		const widths = await avatarsLoaded();
		check(widths.length === 2 && widths.every((w) => w === 2),
			`the commenter's avatar loads on the comments page (${widths})`);
		const v = await violations();
		check(v.length === 0, `no CSP violation on the comments page (${v})`);
	}
	await shoot('comments');
	await page.locator('.comment', { hasText: 'first' }).locator('button:has-text("Approve")').click();
	check(sql("SELECT status FROM comments WHERE ap_id = 'https://good.example/n/1'") === '1',
		'a comment approved on the page is approved in the store');
	await page.locator('.comment', { hasText: 'second' }).locator('input[type=checkbox]').check();
	await page.locator('#bulk button[value=reject]').click();
	check(sql("SELECT status FROM comments WHERE ap_id = 'https://good.example/n/2'") === '2',
		'a ticked comment rejected in bulk');
	await page.goto(`${origin}/admin/comments?show=private`);
	check((await page.textContent('main')).includes('just for you'), 'private replies have their own tab');
	await shoot('comments-private');

	await page.goto(`${origin}/admin/deliveries`);
	check((await page.textContent('main')).includes('good.example'), 'the deliveries page lists the server');
	await shoot('deliveries');

	// Logout: the pages are refused again.
	await page.click('button:has-text("Log out")');
	await page.goto(`${origin}/admin/followers`);
	check(page.url().endsWith('/admin/login'), 'after logout: the login page');
	check(!(await xssRan()), 'no payload ran at all');
} catch (err) {
	check(false, `the browser run: ${err.stack || err}`);
} finally {
	if (browser) await browser.close();
	avatarServer.close();
	bridge.kill('SIGTERM');
	await new Promise((r) => bridge.once('exit', r));
	fs.rmSync(dir, { recursive: true, force: true });
}
// A sanitizer build's reports go to the bridge's log: each is a failure.
const logText = fs.readFileSync(path.join(outDir, 'bridge.log'), 'utf8');
check(!/Sanitizer|runtime error:/.test(logText), 'no sanitizer report in the bridge log');
console.log(`screenshots in ${outDir}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
