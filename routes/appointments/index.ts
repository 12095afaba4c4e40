import { contextOf } from "../../middleware/service_context.ts";
import * as appointments from "../../services/appointments.ts";
import { page, pageRequest } from "../_list.ts";
import { newRouter } from "../_route.ts";
import { create, get, list, patch, put, remove } from "./declarations.ts";
import { appointmentView } from "./views.ts";

export function appointmentRoutes() {
  const app = newRouter();

  app.openapi(list, async (c) => {
    const { patient, doctor, status, from, to, ...q } = c.req.valid("query");
    const filters = {
      patient,
      doctor,
      status,
      from: from ? new Date(from) : undefined,
      to: to ? new Date(to) : undefined,
    };
    const slice = await appointments.listAppointments(contextOf(c), filters, pageRequest(q));
    return c.json(page(c, slice, appointmentView), 200);
  });

  app.openapi(get, async (c) => {
    const row = await appointments.readAppointment(contextOf(c), c.req.valid("param").id);
    return c.json(appointmentView(row), 200);
  });

  app.openapi(create, async (c) => {
    const { appointment_date, duration_minutes, ...body } = c.req.valid("json");
    const booking = { ...body, appointmentDate: new Date(appointment_date), durationMinutes: duration_minutes };
    const row = await appointments.bookAppointment(contextOf(c, { respond: appointmentView }), booking);
    return c.json(appointmentView(row), 201);
  });

  for (const route of [put, patch]) {
    app.openapi(route, async (c) => {
      const row = await appointments.changeAppointment(contextOf(c), c.req.valid("param").id, c.req.valid("json"));
      return c.json(appointmentView(row), 200);
    });
  }

  app.openapi(remove, async (c) => {
    await appointments.deleteAppointment(contextOf(c), c.req.valid("param").id);
    return c.body(null, 204);
  });

  return app;
}
