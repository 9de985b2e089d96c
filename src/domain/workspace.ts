/** How a workspace finds people: by id or email (the default since 2021), or by id only ("classic"). */
export type IdentifierMode = 'email_or_id' | 'id_only';

/** The settings the identity rules read. */
export interface WorkspaceSettings {
  identifiers: IdentifierMode;
  allowEmailUpdateById: boolean;
  anonymousRetentionDays: number;
}

export const identifierModes: readonly IdentifierMode[] = ['email_or_id', 'id_only'];
