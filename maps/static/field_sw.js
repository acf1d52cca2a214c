/* The phone pages' service worker: a page of /field opens with no connection.

   Network first: every page (a navigation under /field) and every asset of the app (/static/)
   is fetched; what arrives is kept in the cache, and with no connection the kept copy is
   answered. The tab pages and their assets are fetched once when the worker is installed, so
   a page not yet opened still opens offline. A page answered by a redirect (to the login page)
   or a refusal empties the cache: the session ended, and the pages of someone signed out are
   not shown to the next person. Writes (POST) are never touched: field.js keeps them in its outbox.
   PRECACHE and VERSION are set by the app in front of this file (GET /field/sw.js). */
/* global PRECACHE, VERSION */
"use strict";
var CACHE = "gridsafe-field-" + VERSION;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(PRECACHE.map(function (url) {
      return cache.add(new Request(url, {credentials: "same-origin"})).catch(function () {});
    }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (n) {
      return n.indexOf("gridsafe-field-") === 0 && n !== CACHE;
    }).map(function (n) { return caches.delete(n); }));
  }).then(function () { return self.clients.claim(); }));
});

function kept(request) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(request, {ignoreSearch: request.mode === "navigate"});
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var path = new URL(request.url).pathname;
  var navigation = request.mode === "navigate";
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) { return; }
  if (!(navigation ? path.indexOf("/field") === 0 : path.indexOf("/static/") === 0)) { return; }
  event.respondWith(fetch(request).then(function (response) {
    /* A page of /field answered by a redirect (to the login page) or a refusal: signed out. */
    var signedOut = response.type === "opaqueredirect" || response.redirected ||
      response.status === 401 || response.status === 403;
    if (navigation && signedOut) {
      return caches.delete(CACHE).then(function () { return response; });
    }
    if (response.ok) {
      var copy = response.clone();
      event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.put(request, copy); }));
    }
    return response;
  }, function (error) {
    return kept(request).then(function (answer) {
      if (answer) { return answer; }
      throw error;
    });
  }));
});
