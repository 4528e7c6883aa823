// peer.mjs — the Fedify side of the interop test (see run.sh).
//
// An actor "alice" served by Fedify over plain http on 127.0.0.1, which
//   (a) discovers the blog by WebFinger (acct:, over TLS) and fetches its actor,
//   (b) follows it (Fedify signs the request),
//   (c) waits for the blog's Accept in its inbox (Fedify verifies the
//       signature and the key's owner: only verified activities reach a
//       listener),
//   (d) receives the posts the blog publishes while she follows it, each
//       verified by Fedify: a Create of a Note (checked against what
//       run.sh says the post is), then fetches that Note at its id
//       (ctx.lookupObject, over TLS); an Update of the same Note with a later
//       `updated`; and, before the post's Delete, alice's reactions to it,
//       signed by Fedify and sent to the blog's shared inbox: a public reply
//       (Create of a Note, inReplyTo the post, mentioning the blog), its edit
//       (Update, later `updated`), an answer to the reply given by its id
//       alone and its Delete, a Like, the same Like again under a new id,
//       an Announce, the reply's Delete
//       (Tombstone) and the Like's Undo; then the Delete of the post (a
//       Tombstone, or its id),
//   (e) undoes the Follow, and finally lists everything the blog sent her
//       (exactly Accept, Create, Update, Delete, in that order).
//
// run.sh drives the steps after the Accept by writing JSON files into
// CONTROL_DIR (each written whole, then renamed into place); the peer waits
// for each (bounded) before it waits for the activity it announces:
//   post.json    {id, url, title, hashtag, contentIncludes[]}  the new post is polled
//   edit.json    {contentIncludes[], contentExcludes[]}       the edit is polled
//   reply.json   {text, extra}    send the reply: "<p>@blog TEXT</p>EXTRA"
//   reply-edit.json {text, extra} send its edit, the same way
//   reply-thread.json {text}      send the answer to the reply, by its id
//   thread-delete.json {}         delete that answer
//   like.json, like-again.json, announce.json, reply-delete.json,
//   unlike.json  {}                                           send that
//   delete.json  {}                                           `posts delete` ran
//   undo.json    {}                                           the Undo may go
//   finish.json  {}                                           report the inbox
//
// (Each reaction step reports the activity's id, the reply's id "noteId",
// and the blog's answer.)
// Results go to stdout, one JSON object a line, each with "step" and "ok";
// Fedify's own log (LogTape, debug) and a trace of every HTTP exchange go to
// stderr.  The peer exits 0 when every step passed, 1 otherwise.
//
// Environment: BLOG_ACCT (acct:blog@localhost:PORT), BLOG_ACTOR (the actor
// id the blog should have), PEER_PORT (0: any), CONTROL_DIR (see above),
// STEP_TIMEOUT_MS (default 30000),
// FIRST_KNOCK (the signature scheme Fedify tries first with a server it does
// not know yet: "rfc9421" or "draft-cavage-http-signatures-12"; default:
// Fedify's own default), AUTHORIZED_FETCH (not empty: the blog is in secure
// mode, and the Note is fetched with a GET alice signs).

import { AsyncLocalStorage } from "node:async_hooks";
import { Console } from "node:console";
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import http from "node:http";
import { configure, getConsoleSink, getTextFormatter } from "@logtape/logtape";
import { createFederation, generateCryptoKeyPair, MemoryKvStore } from "@fedify/fedify";
import {
	Accept, Activity, Announce, Create, Delete, Endpoints, Follow, Hashtag, Like, Link, Mention, Note, Person,
	PUBLIC_COLLECTION, Tombstone, Undo, Update,
} from "@fedify/vocab";
// Fedify's own Temporal (a dependency of @fedify/fedify, pinned in
// package-lock.json): the type of every date in its vocabulary.
import { Temporal } from "@js-temporal/polyfill";

const env = (name, dflt) => {
	const v = process.env[name];
	if (v == null || v === "") {
		if (dflt === undefined) throw new Error(`${name} is required`);
		return dflt;
	}
	return v;
};
const BLOG_ACCT = env("BLOG_ACCT");
const BLOG_ACTOR = env("BLOG_ACTOR");
const PEER_PORT = Number(env("PEER_PORT", "0"));
const CONTROL_DIR = env("CONTROL_DIR");
const STEP_TIMEOUT_MS = Number(env("STEP_TIMEOUT_MS", "30000"));
const FIRST_KNOCK = env("FIRST_KNOCK", null);
// The blog runs in secure mode ([federation] authorized_fetch): the Note
// is fetched with alice's signed GET (an authenticated document loader).
const AUTHORIZED_FETCH = env("AUTHORIZED_FETCH", "") !== "";
const ALICE_NAME = "Alice (Fedify interop peer)";

const stderr = new Console(process.stderr, process.stderr);
await configure({
	contextLocalStorage: new AsyncLocalStorage(),
	sinks: { console: getConsoleSink({ console: stderr, formatter: getTextFormatter() }) },
	loggers: [
		{ category: "fedify", lowestLevel: "debug", sinks: ["console"] },
		{ category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["console"] },
	],
});

let failures = 0;
function report(step, ok, fields = {}) {
	if (!ok)
		failures++;
	process.stdout.write(JSON.stringify({ step, ok, ...fields }) + "\n");
}
const trace = (...args) => stderr.log("[peer]", ...args);

// Resolves with p, or rejects after ms.
function bounded(p, ms, what) {
	let timer;
	return Promise.race([
		p,
		new Promise((_, reject) => {
			timer = setTimeout(() => reject(new Error(`${what}: no result after ${ms} ms`)), ms);
		}),
	]).finally(() => clearTimeout(timer));
}

async function waitFor(cond, ms, what) {
	const end = Date.now() + ms;
	while (!cond()) {
		if (Date.now() > end)
			throw new Error(`${what}: not within ${ms} ms`);
		await new Promise((r) => setTimeout(r, 50));
	}
}

// Which HTTP signature scheme a request carries.
function sigScheme(headers) {
	if (headers.get("signature-input"))
		return "rfc9421";
	if (headers.get("signature"))
		return "draft-cavage";
	return "none";
}

// Every request Fedify makes goes through the global fetch: trace it, and
// keep the POSTs to the blog's inboxes to tell which scheme was tried.
const outgoing = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
	const req = new Request(input, init); // one Request, whatever the form of the call
	const scheme = sigScheme(req.headers);
	// Read before sending: fetch consumes the body.
	const body = req.method === "POST" ? await req.clone().text() : null;
	let res;
	try {
		res = await realFetch(req);
	} catch (e) {
		trace(`-> ${req.method} ${req.url} [sig: ${scheme}] failed: ${e?.cause ?? e}`);
		throw e;
	}
	trace(`-> ${req.method} ${req.url} [sig: ${scheme}] ${res.status}`);
	if (req.method === "POST") {
		if (scheme === "rfc9421")
			trace(`   Signature-Input: ${req.headers.get("signature-input")}`);
		else if (scheme === "draft-cavage")
			trace(`   Signature: ${req.headers.get("signature").replace(/signature="[^"]*"/, 'signature="..."')}`);
		trace(`   body: ${body}`);
		outgoing.push({ url: req.url, scheme, status: res.status });
	}
	return res;
};

// RSA for HTTP signatures; Ed25519 too, as Fedify recommends, so that what
// alice sends also carries an Object Integrity Proof (FEP-8b32).
const keyPairs = [
	await generateCryptoKeyPair("RSASSA-PKCS1-v1_5"),
	await generateCryptoKeyPair("Ed25519"),
];
const received = []; // { type, name, id, actor, objectId, json, object, objectError }
// The bodies POSTed to our inboxes as they came (before Fedify parsed
// them), by activity id: what the blog actually sent.
const rawById = new Map();

const federation = createFederation({
	kv: new MemoryKvStore(),
	allowPrivateAddress: true, // everything here is on loopback
	...(FIRST_KNOCK ? { firstKnock: FIRST_KNOCK } : {}),
});

federation
	.setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
		if (identifier !== "alice")
			return null;
		const keys = await ctx.getActorKeyPairs(identifier);
		return new Person({
			id: ctx.getActorUri(identifier),
			preferredUsername: identifier,
			name: ALICE_NAME,
			url: new URL(`/@${identifier}`, ctx.origin),
			inbox: ctx.getInboxUri(identifier),
			followers: ctx.getFollowersUri(identifier),
			endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
			publicKey: keys[0].cryptographicKey,
			assertionMethods: keys.map((k) => k.multikey),
		});
	})
	.mapHandle((_ctx, username) => (username === "alice" ? "alice" : null))
	.setKeyPairsDispatcher(async (_ctx, identifier) => (identifier === "alice" ? keyPairs : []));

// Alice's followers: none (her posts are addressed to it all the same).
federation.setFollowersDispatcher("/users/{identifier}/followers", async () => ({ items: [] }));

// Alice's notes (her reply to the post), served at their ids while they
// exist, for a server that fetches them from their origin.
const notes = new Map();
federation.setObjectDispatcher(Note, "/users/{identifier}/notes/{id}", async (ctx, values) =>
	values.identifier === "alice" ? (notes.get(ctx.getObjectUri(Note, values).href) ?? null) : null);

async function record(activity) {
	const json = await activity.toJsonLd();
	// The object as Fedify gives it to an application (embedded: not
	// fetched; Fedify refetches an object of another origin).
	let object = null, objectError = null;
	if (activity instanceof Create || activity instanceof Update || activity instanceof Delete) {
		try {
			object = await activity.getObject();
		} catch (e) {
			objectError = String(e?.stack ?? e);
		}
	}
	received.push({
		type: activity.constructor.typeId?.href ?? activity.constructor.name,
		name: activity.constructor.name,
		id: activity.id?.href ?? null,
		actor: activity.actorId?.href ?? null,
		objectId: activity.objectId?.href ?? null,
		json,
		activity,
		object,
		objectError,
	});
	trace(`inbox: verified ${activity.constructor.name} ${activity.id?.href} from ${activity.actorId?.href}`);
}

federation
	.setInboxListeners("/users/{identifier}/inbox", "/inbox")
	.on(Accept, async (_ctx, accept) => record(accept))
	.on(Activity, async (_ctx, activity) => record(activity))
	.onError(async (_ctx, error) => trace(`inbox listener error: ${error?.stack ?? error}`));

// Node's http server in front of federation.fetch.
const server = http.createServer(async (req, res) => {
	try {
		const chunks = [];
		for await (const c of req)
			chunks.push(c);
		const headers = new Headers();
		for (let i = 0; i < req.rawHeaders.length; i += 2)
			headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
		const hasBody = req.method !== "GET" && req.method !== "HEAD";
		if (req.method === "POST") {
			const text = Buffer.concat(chunks).toString("utf8");
			trace(`<- POST ${req.url} body: ${text}`);
			try {
				const id = JSON.parse(text)?.id;
				if (typeof id === "string")
					rawById.set(id, text);
			} catch {
				// Fedify answers it
			}
		}
		const request = new Request(new URL(req.url, `http://${req.headers.host}`), {
			method: req.method,
			headers,
			body: hasBody ? Buffer.concat(chunks) : undefined,
		});
		const response = await federation.fetch(request, {
			contextData: undefined,
			onNotFound: () => new Response("not found", { status: 404 }),
			onNotAcceptable: () => new Response("not acceptable", { status: 406 }),
		});
		trace(`<- ${req.method} ${req.url} [sig: ${sigScheme(headers)}] ${response.status}`);
		res.writeHead(response.status, [...response.headers].flat());
		res.end(Buffer.from(await response.arrayBuffer()));
	} catch (e) {
		trace(`<- ${req.method} ${req.url}: ${e?.stack ?? e}`);
		res.writeHead(500).end();
	}
});
await new Promise((resolve) => server.listen(PEER_PORT, "127.0.0.1", resolve));
const origin = `http://127.0.0.1:${server.address().port}`;
const ctx = federation.createContext(new URL(origin), undefined);
const aliceId = ctx.getActorUri("alice").href;
report("listening", true, { origin, actor: aliceId, name: ALICE_NAME, firstKnock: FIRST_KNOCK ?? "Fedify's default" });

// run.sh's go-ahead for a step: CONTROL_DIR/NAME.json, parsed.
const controlFile = (name) => join(CONTROL_DIR, `${name}.json`);
async function awaitControl(name) {
	await waitFor(() => existsSync(controlFile(name)), STEP_TIMEOUT_MS, `run.sh's ${name}.json`);
	return JSON.parse(readFileSync(controlFile(name), "utf8"));
}

// A received activity without the bulky parts, for reports.
const brief = ({ json, activity, object, objectError, ...r }) => r;
// The JSON the blog POSTed for a received activity, as it came.
function sentJson(r) {
	const text = rawById.get(r.id);
	if (text == null)
		return null;
	try {
		return JSON.parse(text);
	} catch {
		return text;
	}
}
const ids = (urls) => (urls ?? []).map((u) => u.href);
const str = (v) => (v == null ? null : String(v));

// What Fedify made of a Note (the fields the checks use).
async function describe(o) {
	if (!(o instanceof Note))
		return { type: o?.constructor?.name ?? null, id: o?.id?.href ?? null };
	const tags = [];
	for await (const t of o.getTags())
		tags.push({ type: t instanceof Hashtag ? "Hashtag" : t.constructor.name, name: str(t.name), href: t.href?.href ?? null });
	const url = o.url instanceof Link ? o.url.href?.href : o.url?.href;
	return {
		type: "Note",
		id: o.id?.href ?? null,
		attributedTo: o.attributionId?.href ?? null,
		url: url ?? null,
		published: str(o.published),
		updated: str(o.updated),
		to: ids(o.toIds),
		cc: ids(o.ccIds),
		content: str(o.content),
		tags,
	};
}

// (d') Alice's reactions to the post, each sent when run.sh says so, signed
// by Fedify, to the blog's shared inbox: a public reply (Create of a Note
// with inReplyTo the post, mentioning the blog), its edit (Update, later
// `updated`), a Like (and the same Like again under a new id) and an
// Announce of the post, the reply's Delete (Tombstone) and the Like's
// Undo.  Each step reports what went and the
// blog's answer; false when one could not be sent.
async function interact(blog, post) {
	const pub = PUBLIC_COLLECTION;
	const followers = ctx.getFollowersUri("alice");
	const sharedInbox = blog.endpoints?.sharedInbox?.href ?? null;
	const activityId = (kind) => new URL(`/users/alice/${kind}/${randomUUID()}`, origin);
	const seconds = (ms) => Temporal.Instant.fromEpochMilliseconds(Math.floor(ms / 1000) * 1000);
	const handle = `@${BLOG_ACCT.replace(/^acct:/, "")}`;
	const noteId = ctx.getObjectUri(Note, { identifier: "alice", id: randomUUID() });
	// Her answer to her own reply, sent by its id alone (the blog fetches it).
	const threadId = ctx.getObjectUri(Note, { identifier: "alice", id: randomUUID() });
	const note = (ctl, published, updated) =>
		new Note({
			id: noteId,
			attribution: new URL(aliceId), // attributedTo
			replyTarget: new URL(post.id), // inReplyTo
			published,
			updated,
			to: pub,
			ccs: [followers, blog.id],
			content: `<p><span class="h-card"><a href="${blog.url?.href ?? BLOG_ACTOR}" class="u-url mention">` +
				`@<span>${handle.split("@")[1]}</span></a></span> ${ctl.text}</p>${ctl.extra ?? ""}`,
			tags: [new Mention({ href: blog.id, name: handle })],
		});
	// One activity to the shared inbox; true when the blog took it (202).
	async function send(step, ctl, activity) {
		const sent = outgoing.length;
		try {
			await bounded(
				ctx.sendActivity({ identifier: "alice" }, blog, activity, { preferSharedInbox: true }),
				STEP_TIMEOUT_MS,
				`sendActivity(${activity.constructor.name})`,
			);
		} catch (e) {
			report(step, false, { error: String(e?.stack ?? e), attempts: outgoing.slice(sent) });
			return false;
		}
		const tries = outgoing.slice(sent);
		const last = tries.at(-1);
		const ok = sharedInbox != null && last?.url === sharedInbox && last?.status === 202;
		report(step, ok, { id: activity.id.href, noteId: noteId.href, threadId: threadId.href,
			to: last?.url ?? null, attempts: tries,
			expected: ctl, sent: await activity.toJsonLd() });
		return ok;
	}
	let like = null;
	const steps = [
		["reply", (ctl) => {
			const n = note(ctl, seconds(Date.now() - 10000), undefined);
			notes.set(noteId.href, n);
			return new Create({ id: activityId("creates"), actor: new URL(aliceId), object: n, to: pub,
				ccs: [followers, blog.id], published: n.published });
		}],
		["reply-edit", (ctl) => {
			// Strictly later than the Create's `published`, at second precision.
			const n = note(ctl, notes.get(noteId.href).published, seconds(Date.now()));
			notes.set(noteId.href, n);
			return new Update({ id: activityId("updates"), actor: new URL(aliceId), object: n, to: pub,
				ccs: [followers, blog.id], published: n.updated });
		}],
		["reply-thread", (ctl) => {
			const n = new Note({ id: threadId, attribution: new URL(aliceId), replyTarget: noteId,
				published: seconds(Date.now()), to: pub, ccs: [followers, blog.id], content: `<p>${ctl.text}</p>` });
			notes.set(threadId.href, n);
			return new Create({ id: activityId("creates"), actor: new URL(aliceId), object: threadId, to: pub,
				ccs: [followers, blog.id], published: n.published });
		}],
		["thread-delete", () => {
			notes.delete(threadId.href);
			return new Delete({ id: activityId("deletes"), actor: new URL(aliceId), object: new Tombstone({ id: threadId }),
				to: pub, ccs: [followers, blog.id] });
		}],
		["like", () => (like = new Like({ id: activityId("likes"), actor: new URL(aliceId), object: new URL(post.id) }))],
		// The same Like again, under a new id (a client's retry, a second
		// tap): still one like.
		["like-again", () => new Like({ id: activityId("likes"), actor: new URL(aliceId), object: new URL(post.id) })],
		["announce", () =>
			new Announce({ id: activityId("announces"), actor: new URL(aliceId), object: new URL(post.id), to: pub,
				ccs: [followers, blog.id], published: seconds(Date.now()) })],
		["reply-delete", () => {
			notes.delete(noteId.href);
			return new Delete({ id: activityId("deletes"), actor: new URL(aliceId), object: new Tombstone({ id: noteId }),
				to: pub, ccs: [followers, blog.id] });
		}],
		["unlike", () => new Undo({ id: activityId("undos"), actor: new URL(aliceId), object: like })],
	];
	for (const [step, make] of steps) {
		let ctl;
		try {
			ctl = await awaitControl(step);
		} catch (e) {
			report(step, false, { error: String(e?.message ?? e) });
			return false;
		}
		if (!(await send(step, ctl, make(ctl))))
			return false;
	}
	return true;
}

async function main() {
	// (a) Discovery, over TLS: WebFinger for the acct:, then the actor.
	const jrd = await bounded(ctx.lookupWebFinger(BLOG_ACCT), STEP_TIMEOUT_MS, "lookupWebFinger");
	const self = jrd?.links?.find((l) => l.rel === "self" && l.type === "application/activity+json");
	report("webfinger", jrd != null && self?.href === BLOG_ACTOR && jrd.subject === BLOG_ACCT, {
		api: "ctx.lookupWebFinger",
		resource: BLOG_ACCT,
		subject: jrd?.subject ?? null,
		self: self?.href ?? null,
	});

	const blog = await bounded(ctx.lookupObject(BLOG_ACCT), STEP_TIMEOUT_MS, "lookupObject");
	if (!(blog instanceof Person)) {
		report("lookup", false, { api: "ctx.lookupObject", identifier: BLOG_ACCT, got: blog?.constructor?.name ?? null });
		return;
	}
	const key = await blog.getPublicKey();
	const checks = {
		id: blog.id?.href === BLOG_ACTOR,
		inbox: blog.inboxId?.href === `${BLOG_ACTOR}/inbox`,
		sharedInbox: blog.endpoints?.sharedInbox?.href === new URL("/ap/inbox", BLOG_ACTOR).href,
		publicKeyOwner: key?.ownerId?.href === BLOG_ACTOR,
		publicKeyId: key?.id?.href?.startsWith(`${BLOG_ACTOR}#`) === true,
		publicKeyRsa: key?.publicKey?.algorithm?.name === "RSASSA-PKCS1-v1_5",
		preferredUsername: blog.preferredUsername === BLOG_ACCT.replace(/^acct:/, "").split("@")[0],
	};
	report("lookup", Object.values(checks).every(Boolean), {
		api: "ctx.lookupObject",
		identifier: BLOG_ACCT,
		id: blog.id?.href,
		inbox: blog.inboxId?.href,
		sharedInbox: blog.endpoints?.sharedInbox?.href ?? null,
		publicKey: { id: key?.id?.href, owner: key?.ownerId?.href, algorithm: key?.publicKey?.algorithm?.name },
		discoverable: blog.discoverable ?? null,
		indexable: blog.indexable ?? null,
		checks,
	});
	if (!checks.id || !checks.inbox)
		return;

	// (b) Follow, to the actor's inbox; Fedify chooses the signature scheme.
	const follow = new Follow({
		id: new URL(`/users/alice/follows/${randomUUID()}`, origin),
		actor: new URL(aliceId),
		object: blog.id,
	});
	let sent = outgoing.length;
	try {
		await bounded(ctx.sendActivity({ identifier: "alice" }, blog, follow), STEP_TIMEOUT_MS, "sendActivity(Follow)");
		const tries = outgoing.slice(sent).filter((o) => o.url === blog.inboxId.href);
		report("follow", true, { id: follow.id.href, to: blog.inboxId.href, attempts: tries, doubleKnock: tries.length > 1 });
	} catch (e) {
		report("follow", false, { error: String(e?.stack ?? e), attempts: outgoing.slice(sent) });
		return;
	}

	// (c) The blog's Accept of that Follow, verified by Fedify.
	const isAccept = (r) => r.name === "Accept" && r.objectId === follow.id.href;
	try {
		await waitFor(() => received.some(isAccept), STEP_TIMEOUT_MS, "Accept of the Follow");
		const a = received.find(isAccept);
		report("accept", a.actor === BLOG_ACTOR, { id: a.id, actor: a.actor, object: a.objectId, json: a.json });
	} catch (e) {
		report("accept", false, { error: String(e?.message ?? e), received: received.map(brief) });
		return;
	}

	// (d) The posts, each step announced by run.sh.
	const followers = blog.followersId?.href ?? null;
	const pub = PUBLIC_COLLECTION.href;
	const isPost = (r, name) => r.name === name && r.actor === BLOG_ACTOR;

	// The Create of a new post.
	let post;
	try {
		post = await awaitControl("post");
	} catch (e) {
		report("create", false, { error: String(e?.message ?? e) });
		return;
	}
	try {
		await waitFor(() => received.some((r) => isPost(r, "Create")), STEP_TIMEOUT_MS, "the Create");
	} catch (e) {
		report("create", false, { error: String(e?.message ?? e), received: received.map(brief) });
		return;
	}
	const c = received.find((r) => isPost(r, "Create"));
	const cNote = await describe(c.object);
	const cChecks = {
		activityTo: ids(c.activity.toIds).includes(pub),
		activityCc: followers != null && ids(c.activity.ccIds).includes(followers),
		objectId: c.objectId === post.id,
		note: c.object instanceof Note,
		id: cNote.id === post.id,
		attributedTo: cNote.attributedTo === BLOG_ACTOR,
		url: cNote.url === post.url,
		published: cNote.published != null,
		contentTitle: cNote.content?.includes(post.title) === true,
		contentLink: cNote.content?.includes(`href="${post.url}"`) === true,
		contentIncludes: post.contentIncludes.every((t) => cNote.content?.includes(t)),
		hashtag: cNote.tags?.some((t) => t.type === "Hashtag" && t.name === post.hashtag) === true,
		toPublic: cNote.to?.includes(pub) === true,
		ccFollowers: followers != null && cNote.cc?.includes(followers) === true,
	};
	report("create", Object.values(cChecks).every(Boolean), {
		id: c.id, actor: c.actor, checks: cChecks, object: cNote, objectError: c.objectError,
		expected: { ...post, followers }, sent: sentJson(c),
	});

	// The Note at its id, fetched by Fedify through nginx; in secure mode
	// with a GET that alice signs.
	try {
		const options = AUTHORIZED_FETCH
			? { documentLoader: await ctx.getDocumentLoader({ identifier: "alice" }) }
			: {};
		const fetched = await bounded(ctx.lookupObject(post.id, options), STEP_TIMEOUT_MS, "lookupObject(post)");
		const f = await describe(fetched);
		const fChecks = {
			note: fetched instanceof Note,
			id: f.id === post.id,
			attributedTo: f.attributedTo === BLOG_ACTOR,
			url: f.url === post.url,
			sameContent: f.content != null && f.content === cNote.content,
		};
		report("fetch", Object.values(fChecks).every(Boolean), {
			api: AUTHORIZED_FETCH ? "ctx.lookupObject, ctx.getDocumentLoader({identifier: alice})"
				: "ctx.lookupObject",
			identifier: post.id, checks: fChecks, object: f,
		});
	} catch (e) {
		report("fetch", false, { api: "ctx.lookupObject", identifier: post.id, error: String(e?.stack ?? e) });
	}

	// The Update of the edited post.
	let edit;
	try {
		edit = await awaitControl("edit");
		await waitFor(() => received.some((r) => isPost(r, "Update")), STEP_TIMEOUT_MS, "the Update");
	} catch (e) {
		report("update", false, { error: String(e?.message ?? e), received: received.map(brief) });
		return;
	}
	const u = received.find((r) => isPost(r, "Update"));
	const uNote = await describe(u.object);
	const before = Math.max(...[c.object?.published, c.object?.updated].filter(Boolean).map((t) => t.epochMilliseconds));
	const uChecks = {
		afterCreate: received.indexOf(u) > received.indexOf(c),
		objectId: u.objectId === post.id,
		note: u.object instanceof Note,
		id: uNote.id === post.id,
		attributedTo: uNote.attributedTo === BLOG_ACTOR,
		url: uNote.url === post.url,
		contentIncludes: edit.contentIncludes.every((t) => uNote.content?.includes(t)),
		contentExcludes: edit.contentExcludes.every((t) => uNote.content?.includes(t) === false),
		updatedLater: u.object?.updated != null && Number.isFinite(before) && u.object.updated.epochMilliseconds > before,
		publishedKept: uNote.published != null && uNote.published === cNote.published,
		hashtag: uNote.tags?.some((t) => t.type === "Hashtag" && t.name === post.hashtag) === true,
		toPublic: uNote.to?.includes(pub) === true,
		ccFollowers: followers != null && uNote.cc?.includes(followers) === true,
	};
	report("update", Object.values(uChecks).every(Boolean), {
		id: u.id, actor: u.actor, checks: uChecks, createdObject: { published: cNote.published, updated: cNote.updated },
		object: uNote, objectError: u.objectError, expected: edit, sent: sentJson(u),
	});

	// Alice replies, edits, likes, boosts, deletes and undoes.
	if (!(await interact(blog, post)))
		return;

	// The Delete of the post.
	try {
		await awaitControl("delete");
		await waitFor(() => received.some((r) => isPost(r, "Delete")), STEP_TIMEOUT_MS, "the Delete");
	} catch (e) {
		report("delete", false, { error: String(e?.message ?? e), received: received.map(brief) });
		return;
	}
	const d = received.find((r) => isPost(r, "Delete"));
	const dSent = sentJson(d);
	const dChecks = {
		afterUpdate: received.indexOf(d) > received.indexOf(u),
		objectId: d.objectId === post.id,
		// A Tombstone, or the bare id (then Fedify would have to fetch it).
		tombstone: d.object instanceof Tombstone || typeof dSent?.object === "string",
	};
	report("delete", Object.values(dChecks).every(Boolean), {
		id: d.id, actor: d.actor, checks: dChecks,
		object: d.object ? { type: d.object.constructor.name, id: d.object.id?.href ?? null } : null,
		objectError: d.objectError, sent: dSent,
	});

	// (e) Undo(Follow), this time to the shared inbox, when run.sh says so.
	try {
		await awaitControl("undo");
	} catch (e) {
		report("undo", false, { error: String(e?.message ?? e) });
		return;
	}
	const undo = new Undo({
		id: new URL(`/users/alice/undos/${randomUUID()}`, origin),
		actor: new URL(aliceId),
		object: follow,
	});
	sent = outgoing.length;
	try {
		await bounded(
			ctx.sendActivity({ identifier: "alice" }, blog, undo, { preferSharedInbox: true }),
			STEP_TIMEOUT_MS,
			"sendActivity(Undo)",
		);
		const tries = outgoing.slice(sent);
		report("undo", true, { id: undo.id.href, to: tries.at(-1)?.url ?? null, attempts: tries, doubleKnock: tries.length > 1 });
	} catch (e) {
		report("undo", false, { error: String(e?.stack ?? e), attempts: outgoing.slice(sent) });
		return;
	}

	// Everything the blog sent us: exactly the Accept, then the post's
	// Create, Update and Delete (the first, imported post never comes).
	try {
		await awaitControl("finish");
	} catch (e) {
		report("inbox", false, { error: String(e?.message ?? e), received: received.map(brief) });
		return;
	}
	await new Promise((r) => setTimeout(r, 2000)); // a late extra delivery would show
	const expected = [isAccept, (r) => r === c, (r) => r === u, (r) => r === d];
	report("inbox", received.length === expected.length && received.every((r, i) => expected[i](r)), {
		expected: ["Accept", "Create", "Update", "Delete"],
		received: received.map(brief),
	});
}

try {
	await main();
} catch (e) {
	report("error", false, { error: String(e?.stack ?? e) });
}
server.close();
server.closeAllConnections();
process.exit(failures === 0 ? 0 : 1);
