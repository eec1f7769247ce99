"""The GraphQL schema: the part of Numerai's tournament API that numerapi and the bot use.

Classic (8), Signals (11) and Crypto (12) share it; Signals uploads with its own pair,
``submissionUploadSignalsAuth`` / ``createSignalsSubmission`` (no tournament argument),
Crypto with Classic's calls and ``tournament: 12``.

Field and argument names and types follow what numerapi 3.1.1 sends, so its queries pass
graphql-core's validation unchanged. Both spellings of the upload calls exist, as on
Numerai: numerapi uses ``submission_upload_auth`` / ``create_submission``, the documented
schema ``submissionUploadAuth`` / ``createSubmission``. Resolvers are attached in
:mod:`standins.numerai.resolvers`.
"""

from __future__ import annotations

SDL = """
scalar DateTime

enum RoundStatus { UPCOMING OPEN RESOLVING RESOLVED }

type Query {
  rounds(tournament: Int, number: Int, target: String, status: RoundStatus, limit: Int): [Round]
  listDatasets(round: Int, tournament: Int): [String!]
  dataset(filename: String!, round: Int, tournament: Int): String
  account: Account
  model(modelId: String): Model
  submission_upload_auth(filename: String!, tournament: Int!, modelId: String): UploadAuth
  submissionUploadAuth(filename: String!, tournament: Int!, modelId: String): UploadAuth
  submissionUploadSignalsAuth(filename: String!, tournament: Int, modelId: String): UploadAuth
  submissions(modelId: String): [Submission!]
  submissionDownloadAuth(id: String): UploadAuth
  submissionScores(
    modelId: ID!
    displayName: String
    version: String
    day: Int
    resolved: Boolean
    tournament: Int
    lastNRounds: Int
    distinctOnRound: Boolean
  ): [SubmissionScore!]
  v2RoundModelPerformances(modelId: String!, tournament: Int): [RoundModelPerformance!]
  pendingModelPayouts(tournament: Int): PendingModelPayouts
}

type Mutation {
  create_submission(
    filename: String!
    tournament: Int!
    modelId: String
    triggerId: String
    source: String
    dataDatestamp: Int
  ): Submission
  createSubmission(
    filename: String!
    tournament: Int!
    modelId: String
    triggerId: String
    source: String
    dataDatestamp: Int
  ): Submission
  createSignalsSubmission(
    filename: String!
    modelId: String
    triggerId: String
    source: String
    dataDatestamp: Int
  ): Submission
  setSubmissionWebhook(modelId: String, newSubmissionWebhook: String): String
  triggerModelWebhook(modelId: String!): String
}

type Round {
  id: ID
  tournament: Int
  number: Int
  target: String
  openTime: DateTime
  closeTime: DateTime
  closeStakingTime: DateTime
  scoreTime: DateTime
  resolveTime: DateTime
  resolvedGeneral: Boolean
  resolvedStaking: Boolean
  payoutFactor: String
  stakeThreshold: String
  dataDatestamp: Int
  roundScoreConfigs: [RoundScoreConfig!]
}

type RoundScoreConfig {
  id: ID
  scoreConfigId: ID
  roundNumberStart: Int
  roundNumberEnd: Int
  name: String
  version: String
  displayName: String
  totalScoreDays: Int
  returnsLagDays: Int
  dataDelayDays: Int
  universe: String
  isCanonScore: Boolean
  isPayout: Boolean
  scoringStart: DateTime
  scoringEnd: DateTime
  minMultiplier: Float
  maxMultiplier: Float
  defaultMultiplier: Float
  clipThreshold: Float
  stakeThreshold: String
  payoutFactor: String
}

type Account {
  id: ID
  username: String
  email: String
  walletAddress: String
  availableNmr: String
  mfaEnabled: Boolean
  status: String
  insertedAt: DateTime
  models: [Model!]
  apiTokens: [ApiToken!]
}

type ApiToken {
  name: String
  public_id: String
  scopes: [String!]
}

type Model {
  id: ID!
  name: String!
  displayName: String
  tournament: Int
  submissions: [Submission!]
  v2Stake: Stake
  computePickleUpload: ComputePickleUpload
}

# Numerai's hosted Model Uploads: the pickle assigned to a model slot (null when none). A model
# with one is run by Numerai and cannot also have a submission webhook.
type ComputePickleUpload {
  id: ID
  filename: String
  validationStatus: String
  triggerStatus: String
  insertedAt: DateTime
}

type Stake {
  status: String
  txHash: String
}

type UploadAuth {
  filename: String
  url: String
}

type Submission {
  id: ID!
  filename: String
  round: Round
  triggerId: String
  insertedAt: DateTime
  selected: Boolean
  source: String
  dataDatestamp: Int
  firstEffectiveDate: DateTime
}

type SubmissionScore {
  roundId: ID
  submissionId: ID
  roundNumber: Int
  roundResolveTime: DateTime
  roundScoreTime: DateTime
  roundCloseStakingTime: DateTime
  value: Float
  percentile: Float
  displayName: String
  version: String
  date: DateTime
  day: Int
  resolveDate: DateTime
  resolved: Boolean
}

type RoundModelPerformance {
  atRisk: String
  payoutMultipliers: [PayoutMultiplier!]
  roundPayoutFactor: Float
  roundNumber: Int
  roundOpenTime: DateTime
  roundResolveTime: DateTime
  roundResolved: Boolean
  roundTarget: String
  submissionScores: [RoundSubmissionScore!]
  intraRoundSubmissionScores: [RoundSubmissionScore!]
}

type PayoutMultiplier {
  id: ID
  scoreConfigId: ID
  name: String
  version: String
  displayName: String
  multiplier: Float
}

type RoundSubmissionScore {
  date: DateTime
  day: Int
  displayName: String
  payoutPending: String
  payoutSettled: String
  percentile: Float
  value: Float
}

type PendingModelPayouts {
  actual: [ModelPayout!]
  pending: [ModelPayout!]
}

type ModelPayout {
  roundId: ID
  roundNumber: Int
  roundResolveTime: DateTime
  modelId: ID
  modelName: String
  modelDisplayName: String
  payoutNmr: String
  payoutValue: String
  currencySymbol: String
}
"""
