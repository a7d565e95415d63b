// Apollo Client's normalised cache over Passerelle: each entity type is
// kept once per identifier (`__typename:id`), whether a page lists it or
// refetches it by node(id), and a type's identifier is never another's.
//
//   node apollo.mjs http://HOST:PORT/graphql
//
// Prints {"entities":{TYPE:N,…},"refetched":{TYPE:true,…},"warnings":[…]}
// and exits 0 when every Node type was normalised, refetched into the same
// entry, and Apollo warned of nothing; 1 otherwise.
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';

const [url] = process.argv.slice(2);
if (!url) {
  console.error('usage: node apollo.mjs URL');
  process.exit(2);
}
const warnings = [];
for (const level of ['warn', 'error']) {
  const original = console[level];
  console[level] = (...args) => {
    warnings.push(args.map(String).join(' '));
    original(...args);
  };
}

const client = new ApolloClient({
  link: new HttpLink({ uri: url }),
  // Possible types, so that fragments on Node match its implementations.
  cache: new InMemoryCache({
    possibleTypes: { Node: ['Offer', 'Cfa', 'Formation', 'Event', 'OrientationSite'] },
  }),
});

const TYPES = ['Offer', 'Cfa', 'Formation', 'Event', 'OrientationSite'];
const { data } = await client.query({
  query: gql`
    {
      offers(first: 3) { nodes { id title } }
      cfas(first: 3) { nodes { id uai name formations(first: 2) { nodes { id title } } } }
      formations(first: 3) { nodes { id partnerId title } }
      events(first: 3) { nodes { id partnerId title } }
      orientationSites(first: 3) { nodes { id partnerId name } }
    }
  `,
});

const entries = () => Object.keys(client.cache.extract());
const count = (keys) =>
  Object.fromEntries(TYPES.map((t) => [t, keys.filter((k) => k.startsWith(`${t}:`)).length]));
const before = entries();

// Each type's first entity, refetched by node(id) with a field more.
const refetched = {};
const firsts = {
  Offer: data.offers.nodes[0],
  Cfa: data.cfas.nodes[0],
  Formation: data.formations.nodes[0],
  Event: data.events.nodes[0],
  OrientationSite: data.orientationSites.nodes[0],
};
for (const [type, entity] of Object.entries(firsts)) {
  const { data: again } = await client.query({
    query: gql`
      query Refetch($id: ID!) {
        node(id: $id) { __typename id ... on Offer { publishedAt } ... on Cfa { siret }
          ... on Formation { level } ... on Event { start } ... on OrientationSite { kind } }
      }
    `,
    variables: { id: entity.id },
  });
  const key = client.cache.identify({ __typename: type, id: entity.id });
  const kept = client.cache.extract()[key];
  // The same entry: what the list read and what the refetch added.
  refetched[type] =
    again.node?.__typename === type &&
    kept !== undefined &&
    Object.keys(kept).length > 3;
}
const after = entries();
const report = {
  entities: count(before),
  added: after.filter((k) => !before.includes(k) && k !== 'ROOT_QUERY'),
  refetched,
  warnings,
};
console.log(JSON.stringify(report));
const ok =
  TYPES.every((t) => report.entities[t] > 0 && report.refetched[t]) &&
  report.added.length === 0 &&
  warnings.length === 0;
process.exit(ok ? 0 : 1);
