-- Nothing of this kind is paused by a user.
return flotillaHealth(obj, function()
  return nil
end)
