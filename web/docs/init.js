// Starts Swagger UI on /docs over the server's own OpenAPI document. A file of its own,
// not an inline script: the page's Content-Security-Policy allows scripts from the
// server's origin only.
(function () {
  "use strict";
  var node = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: node.getAttribute("data-openapi-url"),
    domNode: node,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    // No request to validator.swagger.io (the policy would block it; the document is
    // validated by the build's tests instead).
    validatorUrl: null,
    // The token stays in this page only: a reload asks for it again.
    persistAuthorization: false,
    displayRequestDuration: true,
    tryItOutEnabled: false,
  });
})();
