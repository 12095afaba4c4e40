import { BUILTIN_ROLES } from "../services/permissions.ts";
import type { Database } from "./client.ts";
import { rolePermissions, roles } from "./schema.ts";

/**
 * Creates the built-in roles with their default permissions when they are missing. Existing
 * roles are left alone, so an administrator's changes to their permissions survive restarts.
 */
export async function seedBuiltinRoles(db: Database): Promise<void> {
  await db.transaction(async (tx) => {
    for (const [name, role] of Object.entries(BUILTIN_ROLES)) {
      const [created] = await tx.insert(roles)
        .values({ roleName: name, description: role.description, builtin: true })
        .onConflictDoNothing({ target: roles.roleName })
        .returning({ id: roles.id });
      if (!created) continue;
      await tx.insert(rolePermissions)
        .values(role.permissions.map((permission) => ({ roleId: created.id, permission })));
    }
  });
}
