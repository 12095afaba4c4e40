/**
 * A suspended or deactivated doctor leaves the directory and takes no new appointments, and their
 * history stays: patients still read the appointments they had, administrators still find them.
 */
import { assertEquals } from "@std/assert";
import { appTest } from "./_fixtures.ts";
import { putUnderCare } from "./_care.ts";

for (const status of ["deactivated", "suspended"] as const) {
  appTest(`a ${status} doctor leaves the directory and cannot be booked, keeping their history`, async (t, api) => {
    const [patient, doctor, colleague, admin] = [
      await api.makePatient(),
      await api.makeDoctor(),
      await api.makeDoctor(),
      await api.makeAdmin(),
    ];
    await putUnderCare(api, doctor, patient);
    const patientToken = (await api.signIn(patient)).access;
    const adminToken = (await api.signIn(admin)).access;
    const [past] = (await api.request("GET", "/appointments/", { token: patientToken })).body.results as {
      id: number;
    }[];
    if (status === "deactivated") {
      assertEquals((await api.request("DELETE", `/users/${doctor.id}/`, { token: adminToken })).status, 204);
    } else {
      const res = await api.request("PATCH", `/users/${doctor.id}/`, {
        token: adminToken,
        body: { account_status: "suspended" },
      });
      assertEquals(res.status, 200);
    }
    await t.step("gone from the list and the entry, for everyone but an administrator", async () => {
      const listed = await api.request("GET", "/doctors/?page_size=200", { token: patientToken });
      assertEquals((listed.body.results as { id: number }[]).map((d) => d.id), [colleague.id]);
      assertEquals((await api.request("GET", `/doctors/${doctor.id}/`, { token: patientToken })).status, 404);
      const all = await api.request("GET", "/doctors/?page_size=200", { token: adminToken });
      assertEquals((all.body.results as { id: number }[]).map((d) => d.id), [doctor.id, colleague.id]);
      assertEquals((await api.request("GET", `/doctors/${doctor.id}/`, { token: adminToken })).status, 200);
    });
    await t.step("no free slots, no booking, no rescheduling", async () => {
      const slots = await api.request("GET", `/doctors/${doctor.id}/slots/?date=2031-01-07`, { token: patientToken });
      assertEquals(slots.status, 404);
      for (const token of [patientToken, adminToken]) {
        const res = await api.request("POST", "/appointments/", {
          token,
          body: { doctor: doctor.id, patient: patient.id, appointment_date: "2031-01-07T10:00:00Z" },
        });
        assertEquals([res.status, (res.body.errors as { pointer: string }[])[0].pointer], [422, "/doctor"]);
      }
      const moved = await api.request("PATCH", `/appointments/${past.id}/`, {
        token: patientToken,
        body: { appointment_date: "2031-02-03T10:00:00Z" },
      });
      assertEquals(moved.status, 422);
    });
    await t.step("the history stays readable, and cancelling still works", async () => {
      const read = await api.request("GET", `/appointments/${past.id}/`, { token: patientToken });
      assertEquals([read.status, read.body.doctor], [200, doctor.id]);
      const cancelled = await api.request("PATCH", `/appointments/${past.id}/`, {
        token: patientToken,
        body: { status: "cancelled" },
      });
      assertEquals(cancelled.status, 200, cancelled.text);
    });
    await t.step("the colleague is still bookable", async () => {
      const res = await api.request("POST", "/appointments/", {
        token: patientToken,
        body: { doctor: colleague.id, appointment_date: "2031-01-07T10:00:00Z" },
      });
      assertEquals(res.status, 201, res.text);
    });
  });
}
