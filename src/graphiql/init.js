// Starts GraphiQL for the sessions-gateway page at /graphiql.
// Loaded after React, ReactDOM and GraphiQL (UMD globals), all served by the
// gateway itself: see src/graphiql/index.html and vendor/graphiql/.
(function () {
  'use strict';

  var DEFAULT_QUERY = [
    '# Paste a token in the Headers tab: {"Authorization": "Bearer <token>"}',
    'query MySessions {',
    '  userSessions(userIdentifier: "me") {',
    '    name',
    '    contact',
    '    startDateTime',
    '    endDateTime',
    '    meetingUrl',
    '  }',
    '}',
    '',
  ].join('\n');

  // Without a token, send no Authorization header at all: an empty "Bearer " would be an
  // invalid token (HTTP 401), which would also break the schema fetch behind the docs.
  function authorizationHeaders(token) {
    if (!token) {
      return '{}';
    }
    return '{"Authorization": ' + JSON.stringify('Bearer ' + token) + '}';
  }

  // An optional ?token=... (e.g. from a link the server prints) prefills the
  // Authorization header. It is then dropped from the address bar so it does
  // not linger in the browser history.
  var token = '';
  try {
    var url = new URL(window.location.href);
    token = (url.searchParams.get('token') || '').trim();
    if (url.searchParams.has('token')) {
      url.searchParams.delete('token');
      window.history.replaceState(null, '', url.pathname + url.search + url.hash);
    }
  } catch (e) {
    token = '';
  }
  var headers = authorizationHeaders(token);

  // Full-page layout, set from script so the page needs no inline style.
  document.documentElement.style.height = '100%';
  document.body.style.height = '100%';
  document.body.style.margin = '0';
  var container = document.getElementById('graphiql');
  container.style.height = '100vh';
  container.textContent = '';

  var fetcher = GraphiQL.createFetcher({ url: '/graphql' });

  ReactDOM.createRoot(container).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: DEFAULT_QUERY,
      // headers: what the headers editor shows on load; defaultHeaders: for new tabs.
      headers: headers,
      defaultHeaders: headers,
      shouldPersistHeaders: false,
      defaultEditorToolsVisibility: 'headers',
    })
  );
})();
