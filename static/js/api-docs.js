// Starts Swagger UI on the API documentation page (templates/api/docs.html).
// Kept in a file, not inline, for the Content-Security-Policy.
"use strict";

(function () {
  const root = document.getElementById("swagger-ui");
  const csrfHeader = root.dataset.csrfHeader;
  const csrfToken = root.dataset.csrfToken;

  // "Try it out" with the logged-in session needs the CSRF token on writes;
  // with a Bearer token (the Authorize button) it is simply ignored.
  const requestInterceptor = (request) => {
    if (!["GET", "HEAD", undefined].includes(request.method)) {
      request.headers[csrfHeader] = csrfToken;
    }
    return request;
  };

  window.ui = SwaggerUIBundle({
    url: root.dataset.schemaUrl,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    persistAuthorization: false,
    requestInterceptor,
  });
})();
