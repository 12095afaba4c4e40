import { eq } from "drizzle-orm";
import { BUILTIN_ROLES } from "./permissions.ts";
import type { Database } from "./database.ts";
import { rolePermissions, roles } from "./schema.ts";

/**
 * Creates the built-in roles with their default permissions when they are missing. Existing
 * roles keep the permissions an administrator gave them, except that `admin` always holds the
 * whole catalogue, so a permission added in a later release reaches it.
 */
export async function seedBuiltinRoles(db: Database): Promise<void> {
  await db.transaction(async (tx) => {
    for (const [name, role] of Object.entries(BUILTIN_ROLES)) {
      const [created] = await tx.insert(roles)
        .values({ roleName: name, description: role.description, builtin: true })
        .onConflictDoNothing({ target: roles.roleName })
        .returning({ id: roles.id });
      const roleId = created?.id ??
        (name === "admin"
          ? (await tx.select({ id: roles.id }).from(roles).where(eq(roles.roleName, name)))[0].id
          : null);
      if (roleId === null) continue;
      await tx.insert(rolePermissions)
        .values(role.permissions.map((permission) => ({ roleId, permission })))
        .onConflictDoNothing();
    }
  });
}
