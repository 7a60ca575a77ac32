-- A member its admin paused (spec.paused) is held back from new revisions on purpose.
return flotillaHealth(obj, function(member)
  if member.spec ~= nil and member.spec.paused == true then
    return "paused (spec.paused): the cluster keeps its revisions until it is unpaused"
  end
  return nil
end)
