// Types for the generated standalone Ajv validators (validators.js).
import type { ErrorObject } from 'ajv';

export interface CompiledValidator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}
export const validateEvent: CompiledValidator;
export const validateBatch: CompiledValidator;
