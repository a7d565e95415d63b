// The peer's sources, composed by GraphQL Mesh into one supergraph: the
// CCI exchange from its OpenAPI document, Pass Monde from a JSON sample of
// its answer. The benchmark script sets the addresses and credentials.
import { defineConfig } from '@graphql-mesh/compose-cli';
import { loadOpenAPISubgraph } from '@omnigraph/openapi';
import { loadJSONSchemaSubgraph } from '@omnigraph/json-schema';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

export const composeConfig = defineConfig({
  subgraphs: [
    {
      sourceHandler: loadOpenAPISubgraph('CCI', {
        source: `${env('CCI_URL')}openapi.json`,
        endpoint: env('CCI_URL'),
        operationHeaders: { Authorization: `Bearer ${env('CCI_TOKEN')}` },
      }),
    },
    {
      sourceHandler: loadJSONSchemaSubgraph('PassMonde', {
        endpoint: env('PASSMONDE_URL'),
        operationHeaders: { 'X-Api-Key': env('PASSMONDE_KEY') },
        operations: [
          {
            type: 'Query',
            field: 'bourses',
            path: '/api/v2/bourses',
            queryParamArgMap: { uai: 'uai', annee: 'annee', page: 'page', par_page: 'par_page' },
            method: 'GET',
            argTypeMap: {
              uai: { type: 'string' },
              annee: { type: 'integer' },
              page: { type: 'integer' },
              par_page: { type: 'integer' },
            },
            responseSample: env('PASSMONDE_SAMPLE'),
          },
        ],
      }),
    },
  ],
});
