-- A rollout frozen by spec.rollout.paused, or a Staged rollout waiting for a stage's approval,
-- waits for a person, not for the controller.
return flotillaHealth(obj, function(service)
  local rollout = service.status.rollout
  if rollout ~= nil and (rollout.phase == "Paused" or rollout.phase == "AwaitingApproval") then
    return rollout.message or rollout.phase
  end
  return nil
end)
