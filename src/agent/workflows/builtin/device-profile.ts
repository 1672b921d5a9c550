/**
 * The device_profile workflow the agent ships: used when `<config-dir>/operations/` has no file for
 * device_profile, replaced by one that has (write this text to `<config-dir>/operations/device_profile.toml`
 * to start from it). Same states as thin-edge's builtin, so mappers and users' copies see the same
 * command: each entry of `operations` (firmware_update, software_update, config_update…) runs as a
 * sub-operation, entries with `"@skip": true` are passed over by `iterate`, and the applied profile is
 * published retained on `twin/device_profile`.
 *
 * One deliberate difference: a failed sub-operation leaves its own reason on the command (thin-edge
 * replaces it with "Device profile application failed"), so the cloud says which step failed and why.
 */
export const DEVICE_PROFILE_WORKFLOW = `operation = "device_profile"

[init]
action = "proceed"
on_success = "scheduled"

[scheduled]
action = "proceed"
on_success = "executing"

[executing]
action = "proceed"
on_success = "next_operation"

[next_operation]
iterate = "\${.payload.operations}"
on_next = "apply_operation"
on_success = "twin_update"
on_error = "rollback"

[apply_operation]
operation = "\${.payload.@next.item.operation}"
input = "\${.payload.@next.item.payload}"
on_exec = "awaiting_operation"

[awaiting_operation]
action = "await-operation-completion"
on_success = "next_operation"
on_error = "rollback"

# tedge mqtt pub: the retained twin is what the mapper forwards to the cloud inventory.
[twin_update]
script = "tedge mqtt pub -r \${.topic.root_prefix}/\${.topic.target}/twin/device_profile '{\\"name\\": \\"\${.payload.name}\\", \\"version\\": \\"\${.payload.version}\\"}'"
on_success = "successful"

# Nothing is undone: the reason of the step that failed is kept (no reason given here).
[rollback]
action = "proceed"
on_success = "failed"

[successful]
action = "cleanup"

[failed]
action = "cleanup"
`;

/** The workflow files the agent ships, by the name a user's replacement would have. */
export const SHIPPED_WORKFLOWS: readonly { readonly file: string; readonly text: string }[] = [{ file: 'device_profile.toml', text: DEVICE_PROFILE_WORKFLOW }];
