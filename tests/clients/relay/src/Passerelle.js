// A small Relay project over Passerelle's schema: every connection
// paginated with @connection, every Node type refetchable. Compiled by
// relay-compiler, then its queries run live (see ../relay.mjs).
import { graphql } from 'relay-runtime';

// The identifiers the refetch queries are run with.
graphql`
  query PasserelleIdsQuery {
    offers(first: 1) { nodes { id employer { siret } } }
    cfas(first: 1) { nodes { id uai } }
    formations(first: 1) { nodes { id } }
    events(first: 1) { nodes { id } }
    orientationSites(first: 1) { nodes { id } }
  }
`;

// The root's connections, each paginated from the root.
graphql`
  fragment Passerelle_offers on Query
  @argumentDefinitions(count: { type: "Int", defaultValue: 3 }, cursor: { type: "String" })
  @refetchable(queryName: "PasserelleOffersPaginationQuery") {
    offers(first: $count, after: $cursor) @connection(key: "Passerelle_offers") {
      totalCount
      edges { node { id title ...Passerelle_offer } }
    }
  }
`;

graphql`
  fragment Passerelle_formations on Query
  @argumentDefinitions(count: { type: "Int", defaultValue: 3 }, cursor: { type: "String" })
  @refetchable(queryName: "PasserelleFormationsPaginationQuery") {
    formations(first: $count, after: $cursor) @connection(key: "Passerelle_formations") {
      edges { node { id partnerId ...Passerelle_formation } }
    }
  }
`;

graphql`
  fragment Passerelle_events on Query
  @argumentDefinitions(count: { type: "Int", defaultValue: 3 }, cursor: { type: "String" })
  @refetchable(queryName: "PasserelleEventsPaginationQuery") {
    events(first: $count, after: $cursor) @connection(key: "Passerelle_events") {
      edges { node { id title ...Passerelle_event } }
    }
  }
`;

graphql`
  fragment Passerelle_sites on Query
  @argumentDefinitions(count: { type: "Int", defaultValue: 3 }, cursor: { type: "String" })
  @refetchable(queryName: "PasserelleSitesPaginationQuery") {
    orientationSites(first: $count, after: $cursor) @connection(key: "Passerelle_orientationSites") {
      edges { node { id name ...Passerelle_site } }
    }
  }
`;

graphql`
  fragment Passerelle_cfas on Query
  @argumentDefinitions(count: { type: "Int", defaultValue: 3 }, cursor: { type: "String" })
  @refetchable(queryName: "PasserelleCfasPaginationQuery") {
    cfas(first: $count, after: $cursor) @connection(key: "Passerelle_cfas") {
      edges { node { id uai ...Passerelle_cfaOffers ...Passerelle_cfaFormations ...Passerelle_cfaEvents } }
    }
  }
`;

graphql`
  fragment Passerelle_alerts on Query
  @argumentDefinitions(count: { type: "Int", defaultValue: 3 }, cursor: { type: "String" })
  @refetchable(queryName: "PasserelleAlertsPaginationQuery") {
    offerAlerts(first: $count, after: $cursor) @connection(key: "Passerelle_offerAlerts") {
      edges { node { id candidateRef } }
    }
  }
`;

// Every Node type, refetchable by node(id).
graphql`
  fragment Passerelle_offer on Offer @refetchable(queryName: "PasserelleOfferRefetchQuery") {
    id title sources { partner partnerId }
  }
`;

graphql`
  fragment Passerelle_formation on Formation @refetchable(queryName: "PasserelleFormationRefetchQuery") {
    id partnerId title
  }
`;

graphql`
  fragment Passerelle_event on Event @refetchable(queryName: "PasserelleEventRefetchQuery") {
    id partnerId title start
  }
`;

graphql`
  fragment Passerelle_site on OrientationSite @refetchable(queryName: "PasserelleSiteRefetchQuery") {
    id partnerId name
  }
`;

// A CFA's connections, paginated from the CFA (refetched by node(id)).
graphql`
  fragment Passerelle_cfaOffers on Cfa
  @argumentDefinitions(count: { type: "Int", defaultValue: 2 }, cursor: { type: "String" })
  @refetchable(queryName: "PasserelleCfaOffersPaginationQuery") {
    offers(first: $count, after: $cursor) @connection(key: "Passerelle_cfa_offers") {
      edges { node { id title } }
    }
  }
`;

graphql`
  fragment Passerelle_cfaFormations on Cfa
  @argumentDefinitions(count: { type: "Int", defaultValue: 2 }, cursor: { type: "String" })
  @refetchable(queryName: "PasserelleCfaFormationsPaginationQuery") {
    formations(first: $count, after: $cursor) @connection(key: "Passerelle_cfa_formations") {
      edges { node { id title } }
    }
  }
`;

graphql`
  fragment Passerelle_cfaEvents on Cfa
  @argumentDefinitions(count: { type: "Int", defaultValue: 2 }, cursor: { type: "String" })
  @refetchable(queryName: "PasserelleCfaEventsPaginationQuery") {
    events(first: $count, after: $cursor) @connection(key: "Passerelle_cfa_events") {
      edges { node { id title } }
    }
  }
`;

// Connections of types that are not nodes: paginated within their query.
graphql`
  fragment Passerelle_employerOffers on EmployerProfile
  @argumentDefinitions(count: { type: "Int", defaultValue: 2 }, cursor: { type: "String" }) {
    offers(first: $count, after: $cursor) @connection(key: "Passerelle_employer_offers") {
      edges { node { id title } }
    }
  }
`;

graphql`
  fragment Passerelle_mobilityRecords on MobilityReport
  @argumentDefinitions(count: { type: "Int", defaultValue: 2 }, cursor: { type: "String" }) {
    records(first: $count, after: $cursor) @connection(key: "Passerelle_mobility_records") {
      edges { node { id program country } }
    }
  }
`;

graphql`
  fragment Passerelle_campaign on TaxCampaign
  @argumentDefinitions(
    count: { type: "Int", defaultValue: 2 }
    cursor: { type: "String" }
    uai: { type: "String" }
  ) {
    establishments(first: $count, after: $cursor) @connection(key: "Passerelle_campaign_establishments") {
      edges { node { uai } }
    }
    allocations(uai: $uai, first: $count, after: $cursor) @connection(key: "Passerelle_campaign_allocations") {
      edges { node { reference } }
    }
  }
`;

// The pages of a portal, each spreading the fragments above.
graphql`
  query PasserelleHomeQuery {
    ...Passerelle_offers
    ...Passerelle_formations
    ...Passerelle_events
    ...Passerelle_sites
    ...Passerelle_cfas
  }
`;

graphql`
  query PasserelleMobilityQuery($cfa: String!) {
    mobility(filter: { cfa: $cfa }) { ...Passerelle_mobilityRecords }
  }
`;

graphql`
  query PasserelleEmployerQuery($siret: String!) {
    employer(siret: $siret) { siret ...Passerelle_employerOffers }
  }
`;

graphql`
  query PasserelleCampaignQuery($year: Int!, $uai: String) {
    taxCampaign(year: $year) { year ...Passerelle_campaign @arguments(uai: $uai) }
    ...Passerelle_alerts
  }
`;
