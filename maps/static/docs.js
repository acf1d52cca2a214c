/* The API docs (/docs): Swagger UI over the app's OpenAPI document. A user signed in on the
 * pages calls the API with their session cookie, and a change made that way must carry the
 * session's CSRF token (X-CSRF-Token), as every page's script sends it: the interceptor adds
 * it to each request that is not a GET, HEAD or OPTIONS. */
(function () {
  "use strict";
  const meta = document.querySelector("meta[name=csrf-token]");
  const token = meta ? meta.content : "";
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapi,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
    requestInterceptor: function (request) {
      if (token && !/^(GET|HEAD|OPTIONS)$/i.test(request.method || "GET")) {
        request.headers["X-CSRF-Token"] = token;
      }
      return request;
    },
  });
})();
