-- flotilla's health for Argo CD. Every flotilla kind writes kstatus conditions, so one reading
-- serves them all, by the rules sigs.k8s.io/cli-utils kstatus (and so Flux) applies: a status
-- behind the object's generation is Progressing, Stalled=True is Degraded, Reconciling=True is
-- Progressing, Ready=True is Healthy and any other Ready is Progressing. Argo CD adds Suspended,
-- which kstatus lacks: each kind says what of it a user paused. A kind's script is this part
-- followed by its own (deploy/argocd/health/KIND.lua); `make generate` joins them in argocd-cm.yaml.
local function condition(obj, conditionType)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

local function said(c)
  if c.message == nil then
    return c.reason or ""
  end
  return c.message
end

-- suspended(obj) answers why the object is paused, or nil when it is not.
local function flotillaHealth(obj, suspended)
  -- Argo CD itself answers Progressing for an object being deleted, before it runs a script.
  if obj.metadata.deletionTimestamp ~= nil then
    return { status = "Progressing", message = "Pending deletion" }
  end
  local status = obj.status
  if status == nil or status.observedGeneration == nil or status.observedGeneration ~= obj.metadata.generation then
    return { status = "Progressing", message = "Waiting for the controller to observe the latest generation" }
  end
  local stalled = condition(obj, "Stalled")
  if stalled ~= nil and stalled.status == "True" then
    return { status = "Degraded", message = said(stalled) }
  end
  local why = suspended(obj)
  if why ~= nil then
    return { status = "Suspended", message = why }
  end
  local reconciling = condition(obj, "Reconciling")
  if reconciling ~= nil and reconciling.status == "True" then
    return { status = "Progressing", message = said(reconciling) }
  end
  local ready = condition(obj, "Ready")
  if ready == nil then
    return { status = "Progressing", message = "Waiting for the Ready condition" }
  end
  if ready.status == "True" then
    return { status = "Healthy", message = said(ready) }
  end
  return { status = "Progressing", message = said(ready) }
end
