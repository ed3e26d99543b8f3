import { enrollmentPorts } from '../adapters/enrollment-ports.ts';
import { verifyAtGo } from '../core/enrollment.ts';
import { publicApi } from '../http/api-handler.ts';
import { EnrollVerify } from '../routes.ts';

export const handler = publicApi(EnrollVerify, async (request) => ({
  status: 200,
  body: await verifyAtGo(enrollmentPorts(), request.body, request),
}));
