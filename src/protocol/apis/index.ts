/** One module per Kafka API; each exports its `ApiDefinition` and its request/response types. */
// export * from './api-versions.js';   (added by the ApiVersions module's owner)
export * from './metadata.js';
export * from './produce.js';
export * from './init-producer-id.js';
export * from './sasl-handshake.js';
export * from './sasl-authenticate.js';
export * from './create-topics.js';
export * from './delete-topics.js';
