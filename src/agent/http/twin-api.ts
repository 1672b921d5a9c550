import type { IncomingMessage, ServerResponse } from 'node:http';
import { isJsonObject, jsonTypeName } from '../../core/json';
import type { EntityTopicId } from '../../core/topics';
import type { EntityRequests } from './entity-api';
import { HttpError, readJson, sendEmpty, sendError, sendJson } from './http-io';

type TwinResource = { readonly kind: 'twin'; readonly topicId: EntityTopicId } | { readonly kind: 'twin-fragment'; readonly topicId: EntityTopicId; readonly key: string };

/**
 * `/te/v1/entities/<id>/twin[/<key>]` (thin-edge's REST API): GET 200 (404 for an unknown entity or
 * fragment), PUT 200 with the value now held (`null` deletes), DELETE 204 whether or not it existed.
 * Every change is published retained on `te/<id>/twin/<key>` by the entity service, so MQTT agrees;
 * the answer comes once the broker has acknowledged it.
 */
export async function handleTwin(entities: EntityRequests, req: IncomingMessage, res: ServerResponse, resource: TwinResource): Promise<void> {
  const { topicId } = resource;
  if (resource.kind === 'twin') {
    switch (req.method) {
      case 'GET':
        return sendJson(res, 200, entities.twin(topicId));
      case 'PUT': {
        const body = await readJson(req);
        if (!isJsonObject(body)) throw new HttpError(400, `invalid type: ${jsonTypeName(body)}, expected a map`);
        const now = entities.replaceTwin(topicId, body);
        await entities.settled();
        return sendJson(res, 200, now);
      }
      case 'DELETE':
        entities.replaceTwin(topicId, {});
        await entities.settled();
        return sendEmpty(res, 204);
      default:
        res.setHeader('allow', 'GET, PUT, DELETE');
        return sendError(res, 405, 'Method Not Allowed');
    }
  }
  const { key } = resource;
  switch (req.method) {
    case 'GET': {
      const value = entities.twinFragment(topicId, key);
      if (value === undefined) throw new HttpError(404, `Entity twin data for entity: ${topicId} with fragment key: ${key} not found`);
      return sendJson(res, 200, value);
    }
    case 'PUT': {
      const value = await readJson(req);
      entities.setTwinFragment(topicId, key, value);
      await entities.settled();
      return sendJson(res, 200, value);
    }
    case 'DELETE':
      entities.setTwinFragment(topicId, key, null);
      await entities.settled();
      return sendEmpty(res, 204);
    default:
      res.setHeader('allow', 'GET, PUT, DELETE');
      return sendError(res, 405, 'Method Not Allowed');
  }
}
