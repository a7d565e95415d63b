// Starts GraphiQL on this gateway's /graphql: queries and mutations are
// POSTed as GraphQL over HTTP, subscriptions go over graphql-ws on the
// same path. Everything it loads is served by the gateway itself.
(function () {
  'use strict';
  var socket = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/graphql';
  var fetcher = GraphiQL.createFetcher({
    url: '/graphql',
    subscriptionUrl: socket,
    headers: { accept: 'application/graphql-response+json' },
  });
  // In GraphiQL's logo slot (top right, beside the tabs): the book's part for
  // portal developers, which the gateway serves under /book/, in this tab.
  var docs = React.createElement(
    GraphiQL.Logo,
    null,
    React.createElement(
      'a',
      { className: 'graphiql-logo-link passerelle-book', href: '/book/portal/search-offers.html' },
      'Passerelle documentation'
    )
  );
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, { fetcher: fetcher }, docs));
})();
