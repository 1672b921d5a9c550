export { C8yOperations } from './c8y-operations';
export type { CustomOperation, OperationsOptions } from './options';
export { type UploadOperation, type UploadOutcome, type UploadRequest, httpInventoryUpdateTopic, isUploadRequestTopic, parseUploadRequest, uploadRequestTopic } from './uploads';
export { MAPPER_CMD_PREFIX } from './names';
