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
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, { fetcher: fetcher }));
})();
