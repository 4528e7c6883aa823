/* blogbridge: fediverse replies into [data-fediverse-comments]. Markup as
 * /embed/comments; only the sanitized content is parsed as HTML. */
(function () {
  'use strict';
  var T = {
    en: { heading: 'Comments', empty: 'No comments yet.', likes: ['like', 'likes'],
      boosts: ['boost', 'boosts'],
      reply: 'Reply from the fediverse', avatar: 'Avatar of ', server: 'Your server',
      go: 'Reply from your instance', bad: 'Type a server name, like mastodon.social',
      error: 'The comments could not be loaded.' },
    fr: { heading: 'Commentaires', empty: 'Aucun commentaire pour l\u2019instant.',
      likes: ['j\u2019aime', 'j\u2019aime'], boosts: ['partage', 'partages'],
      reply: 'R\u00e9pondre depuis le fedivers',
      avatar: 'Avatar de ', server: 'Votre serveur', go: 'R\u00e9pondre depuis votre instance',
      bad: 'Indiquez un nom de serveur, par exemple mastodon.social',
      error: 'Les commentaires n\u2019ont pas pu \u00eatre charg\u00e9s.' }
  };
  var KEY = 'fediverse-server';
  var DEPTH_MAX = 8;
  var HOST = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+(:[0-9]{1,5})?$/;

  function pickLang(lang) {
    return /^fr(-|$)/i.test(lang || '') ? 'fr' : 'en';
  }

  /* host from "host", "@user@host" or a URL */
  function normaliseServer(input) {
    var s = String(input == null ? '' : input).trim(), u;
    if (s === '' || /\s/.test(s)) return null;
    if (s.indexOf('://') < 0) {
      if (s.charAt(0) === '@') s = s.slice(1);
      if (s.indexOf('@') >= 0) s = s.slice(s.lastIndexOf('@') + 1);
      s = 'https://' + s;
    }
    try { u = new URL(s); } catch (e) { return null; }
    if ((u.protocol !== 'https:' && u.protocol !== 'http:') || u.username || u.password ||
        (u.pathname !== '/' && u.pathname !== '') || u.search || u.hash) return null;
    return HOST.test(u.host) && !/^[0-9.]+(:|$)/.test(u.host) ? u.host : null;
  }

  function interactUrl(server, postId) {
    var host = normaliseServer(server);
    if (!host || !safeUrl(postId)) return null;
    return 'https://' + host + '/authorize_interaction?uri=' + encodeURIComponent(postId);
  }

  function safeUrl(u) {
    return typeof u === 'string' && /^https?:\/\/[^\s\x00-\x1f\x7f]+$/i.test(u) ? u : null;
  }

  /* per comment: index shown under, or -1 (api.h) */
  function parents(comments) {
    var at = {}, depth = [], out = [];
    comments.forEach(function (c, i) {
      var p = c && typeof c.parent === 'string' && has(at, c.parent)
        ? at[c.parent] : -1;
      if (p >= 0 && depth[p] + 1 >= DEPTH_MAX) p = out[p];
      out.push(p);
      depth.push(p < 0 ? 0 : depth[p] + 1);
      if (c && typeof c.id === 'string' && !has(at, c.id)) at[c.id] = i;
    });
    return out;
  }

  /* "1 like", "2 likes"; French: 0 and 1 take the singular */
  function count(n, w, lang) {
    n = n > 0 ? Math.floor(n) : 0;
    return n + ' ' + w[(lang === 'fr' ? n < 2 : n === 1) ? 0 : 1];
  }

  function has(o, k) { return Object.prototype.hasOwnProperty.call(o, k); }

  /* cls: a leading "-" stands for "fediverse-comment" */
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls.replace(/^-/, 'fediverse-comment');
    if (text != null) e.textContent = String(text);
    return e;
  }

  function attrs(e, o) {
    for (var k in o) e.setAttribute(k, o[k]);
    return e;
  }

  function link(cls, href) {
    return attrs(el('a', cls), { href: href, rel: 'nofollow noopener ugc' });
  }

  function comment(c, t, lang) {
    var art = el('article', '-__body');
    var head = el('header', '-__header');
    var au = c.author || {};
    var name = String(au.name || au.handle || au.id || '');
    var profile = safeUrl(au.url) || safeUrl(au.id);
    var who = profile ? link('-__author', profile) : el('span', '-__author');
    if (safeUrl(au.avatar))
      who.appendChild(attrs(el('img', '-__avatar'), { src: au.avatar, alt: t.avatar + name,
        width: '48', height: '48', loading: 'lazy' }));
    who.appendChild(el('span', '-__name', name));
    head.appendChild(who);
    if (au.handle) {
      head.appendChild(document.createTextNode(' '));
      head.appendChild(el('span', '-__handle', au.handle));
    }
    var when = attrs(el('time', '-__date'), { datetime: String(c.published || '') });
    var d = new Date(c.published);
    when.textContent = isNaN(d) ? String(c.published || '') :
      d.toLocaleDateString(lang, { year: 'numeric', month: 'long', day: 'numeric' });
    var perma = safeUrl(c.url) || safeUrl(c.id);
    if (perma) {
      var pa = link('-__permalink', perma);
      pa.appendChild(when);
      head.appendChild(document.createTextNode(' '));
      head.appendChild(pa);
    } else head.appendChild(when);
    var body = el('div', '-__content');
    body.innerHTML = String(c.content || ''); /* sanitized by the bridge */
    art.appendChild(head);
    art.appendChild(body);
    return art;
  }

  function list(comments, par, under, t, lang) {
    var ol = el('ol', under < 0 ? '-s__list' : '-s__replies');
    comments.forEach(function (c, i) {
      if (par[i] !== under) return;
      var li = attrs(el('li', '-'), { 'data-id': String(c.id) });
      li.appendChild(comment(c, t, lang));
      if (par.indexOf(i) >= 0) li.appendChild(list(comments, par, i, t, lang));
      ol.appendChild(li);
    });
    return ol;
  }

  function replyForm(postId, t) {
    var form = el('form', '-s__form');
    var id = 'fediverse-server-' + Math.random().toString(36).slice(2);
    var label = attrs(el('label', '-s__label', t.server), { for: id });
    var input = attrs(el('input', '-s__server'),
      { id: id, name: 'server', placeholder: 'mastodon.social' });
    var button = attrs(el('button', '-s__go', t.go), { type: 'submit' });
    var msg = attrs(el('p', '-s__message'), { role: 'status' });
    function target() {
      var u = interactUrl(input.value, postId);
      if (u) form.setAttribute('data-target', u); else form.removeAttribute('data-target');
      return u;
    }
    try { input.value = localStorage.getItem(KEY) || ''; } catch (e) { /* */ }
    target();
    input.addEventListener('input', target);
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var u = target();
      if (!u) { msg.textContent = t.bad; return; }
      try { localStorage.setItem(KEY, normaliseServer(input.value)); } catch (e) { /* */ }
      window.location.assign(u);
    });
    [label, input, button, msg].forEach(function (x) { form.appendChild(x); });
    return form;
  }

  function render(root, data, lang) {
    var t = T[lang], sec = attrs(el('section', '-s'), { lang: lang });
    var comments = Array.isArray(data.comments) ? data.comments : [];
    sec.appendChild(el('h2', '-s__heading', t.heading));
    var stats = el('p', '-s__stats');
    stats.appendChild(el('span', '-s__likes', count(data.likes, t.likes, lang)));
    stats.appendChild(document.createTextNode(' '));
    stats.appendChild(el('span', '-s__boosts', count(data.boosts, t.boosts, lang)));
    sec.appendChild(stats);
    sec.appendChild(comments.length ? list(comments, parents(comments), -1, t, lang)
      : el('p', '-s__empty', t.empty));
    if (safeUrl(data.id)) {
      var p = el('p', '-s__reply');
      var a = link('-s__post-link', data.id);
      a.removeAttribute('rel');
      a.textContent = t.reply;
      p.appendChild(a);
      sec.appendChild(p);
      sec.appendChild(replyForm(data.id, t));
    }
    root.textContent = '';
    root.appendChild(sec);
  }

  var CSS = ':where(.fediverse-comments){--fediverse-comments-gap:1em;' +
    '--fediverse-comments-avatar-size:48px;--fediverse-comments-indent:1.5em;' +
    '--fediverse-comments-muted:#666;--fediverse-comments-border:#ddd}' +
    ':where(.fediverse-comments__list,.fediverse-comments__replies){list-style:none;padding:0;margin:0}' +
    ':where(.fediverse-comments__replies){padding-left:var(--fediverse-comments-indent);' +
    'border-left:2px solid var(--fediverse-comments-border)}' +
    ':where(.fediverse-comment){margin:var(--fediverse-comments-gap) 0}' +
    ':where(.fediverse-comment__avatar){width:var(--fediverse-comments-avatar-size);' +
    'height:var(--fediverse-comments-avatar-size);border-radius:50%;vertical-align:middle;margin-right:.5em}' +
    ':where(.fediverse-comment__handle,.fediverse-comment__date,.fediverse-comments__stats)' +
    '{color:var(--fediverse-comments-muted)}';

  function start(origin) {
    var roots = document.querySelectorAll('[data-fediverse-comments]');
    if (!roots.length) return;
    if (!document.getElementById('fediverse-comments-style')) {
      var st = el('style', null, CSS);
      st.id = 'fediverse-comments-style';
      document.head.appendChild(st);
    }
    var lang = pickLang(document.documentElement.getAttribute('lang'));
    var canon = document.querySelector('link[rel="canonical"]');
    Array.prototype.forEach.call(roots, function (root) {
      var post = root.getAttribute('data-fediverse-comments') ||
        (canon && canon.href) || location.origin + location.pathname;
      root.setAttribute('aria-busy', 'true');
      fetch(origin + '/api/comments?post=' + encodeURIComponent(post), { credentials: 'omit' })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (data) { render(root, data, lang); })
        .catch(function () {
          root.textContent = '';
          root.appendChild(el('p', 'fediverse-comments__error', T[lang].error));
        })
        .then(function () { root.removeAttribute('aria-busy'); });
    });
  }

  var api = { pickLang: pickLang, normaliseServer: normaliseServer, interactUrl: interactUrl,
    safeUrl: safeUrl, parents: parents, count: count, T: T };
  if (typeof globalThis !== 'undefined' && globalThis.__fediverseCommentsTest) {
    globalThis.__fediverseCommentsTest.api = api;
    return;
  }
  var me = document.currentScript;
  var origin = me && me.src ? new URL(me.src, location.href).origin : location.origin;
  if (document.readyState === 'loading')
    document.addEventListener('DOMContentLoaded', function () { start(origin); });
  else start(origin);
})();
